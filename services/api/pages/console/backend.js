// The console's view of the API: each function is one call and turns the answer into the shape
// the tabs draw, so the tabs do not care how a route spells its fields.
"use strict";

import { get, post, put, query } from "./api.js";

const enc = encodeURIComponent;
const list = (body, ...keys) => {
  if (Array.isArray(body)) return body;
  for (const k of keys) if (body && Array.isArray(body[k])) return body[k];
  return [];
};

// -- competitions ----------------------------------------------------------------------------

function version(row) {
  const definition = row.definition || {};
  return {
    ...row,
    id: row.competition_id || row.id || definition.id,
    version: Number(row.version ?? definition.version),
    status: row.status || definition.status,
    name: row.name || definition.name,
    window: row.window || definition.window,
    definition,
  };
}

/** [{id, name, versions: [{version, status, name, window, ...}]}], versions oldest first. */
export async function listCompetitions() {
  const rows = list(await get("/api/console/competitions"), "competitions", "versions");
  const byId = new Map();
  for (const row of rows) {
    const nested = Array.isArray(row.versions) ? row.versions.map((v) => version({ competition_id: row.id || row.competition_id, ...v })) : [version(row)];
    for (const v of nested) {
      if (!byId.has(v.id)) byId.set(v.id, { id: v.id, name: v.name, versions: [] });
      byId.get(v.id).versions.push(v);
    }
  }
  const out = [...byId.values()];
  for (const c of out) {
    c.versions.sort((a, b) => a.version - b.version);
    c.name = c.versions[c.versions.length - 1].name || c.name;
  }
  return out;
}

/** Every version of one competition with its definition, oldest first. */
export async function listVersions(id) {
  return list(await get(`/api/console/competitions/${enc(id)}/versions`), "versions")
    .map((row) => version({ competition_id: id, ...row }))
    .sort((a, b) => a.version - b.version);
}

/** [{key, title, name, window, definition}] */
export async function listTemplates() {
  return list(await get("/api/console/templates"), "templates").map((t) => ({
    ...t,
    key: t.key || t.name,
    title: t.title || (t.definition && t.definition.name) || t.key,
    id: (t.definition && t.definition.id) || t.key,
  }));
}

/** Version 1 of a new competition, a draft made from template `key` for the window given. */
export async function instantiate(key, { id, name, start, end }) {
  return version(await post(`/api/console/templates/${enc(key)}`, { id, name, window: { start, end } }));
}

export async function saveDraft(id, v, definition) {
  return version(await put(`/api/console/competitions/${enc(id)}/versions/${v}`, definition));
}

/** A new draft version copied from the newest one: how a published competition is changed. */
export async function newVersion(id) {
  return version(await post(`/api/console/competitions/${enc(id)}/drafts`, {}));
}

export async function publish(id, v) {
  return post(`/api/console/competitions/${enc(id)}/versions/${v}/publish`, {});
}

export async function close(id, v) {
  return post(`/api/console/competitions/${enc(id)}/versions/${v}/close`, {});
}

// -- what-if ---------------------------------------------------------------------------------

function side(s) {
  return s ? { rank: s.rank, points: s.points } : { rank: null, points: null };
}

/** The draft's ranking beside the published one's, over the same history. One ranking per call.
 *  Rows: {id, rank, points, publishedRank, publishedPoints, move (> 0 moved up; null when only
 *  one side ranks it), delta (draft − published points), change: up|down|same|new|dropped}. */
export async function preview(id, definition, ranking) {
  let answer;
  try {
    answer = await post(`/api/console/competitions/${enc(id)}/preview`, { definition, ranking }, { raw: true });
  } catch (err) {
    // The preview names a bad field inside its body's "definition": the form knows it without.
    if (err.field) err.field = String(err.field).replace(/^definition\./, "");
    throw err;
  }
  const { body, elapsed } = answer;
  const timing = body.timing_ms || {};
  return {
    raw: body,
    ranking: body.ranking || ranking,
    elapsedMs: body.took_ms ?? timing.total ?? elapsed,
    roundTripMs: elapsed,
    events: body.events_read,
    against: (body.published_versions || []).length ? Math.max(...body.published_versions) : null,
    summary: body.summary || {},
    rows: (body.rows || []).map((r) => {
      const after = side(r.after);
      const before = side(r.before);
      return {
        id: r.id, name: r.name, change: r.change, rank: after.rank, points: after.points,
        publishedRank: before.rank, publishedPoints: before.points,
        move: r.rank_delta ?? null, delta: r.points_delta,
      };
    }),
  };
}

// -- org -------------------------------------------------------------------------------------

/** Sub-branches as of `day`: [{id, name, headcount, teams: [{id, name, members}], loose, members}];
 *  `loose` are the managers in no team, `members` everyone in the sub-branch. */
export async function orgTree(day) {
  const body = await get("/api/console/org" + query({ as_of: day }));
  return list(body, "sub_branches").map((u) => {
    const teams = (u.teams || []).map((t) => ({ id: t.id, name: t.name, members: members(t) }));
    const loose = teams.filter((t) => t.id === null || t.id === undefined).flatMap((t) => t.members);
    const named = teams.filter((t) => t.id !== null && t.id !== undefined);
    return { id: u.id, name: u.name, headcount: u.headcount, teams: named, loose,
      members: teams.flatMap((t) => t.members) };
  });
}

function members(team) {
  return (team.managers || team.members || []).map((m) => ({ id: m.cm_id || m.id, name: m.name }));
}

export async function subBranches(day) {
  return orgTree(day);
}

/** The roster CSV as it is; rows without their own date take `effectiveFrom`. */
export async function importOrg(csv, effectiveFrom) {
  const body = await post("/api/console/org/import" + query({ effective_from: effectiveFrom }), csv);
  const rejected = (body.rejected || []).length;
  const summary = `已导入 ${body.rows} 行（生效日期 ${body.effective_from}）：加入 ${body.joins} 项，离开 ${body.leaves} 项` +
    (rejected ? `，${rejected} 条变更被拒绝` : "");
  return { ...body, summary };
}

// -- adjustments and audit --------------------------------------------------------------------

export async function adjustments() {
  return list(await get("/api/console/adjustments"), "entries");
}

export async function createAdjustment(body) {
  return post("/api/console/adjustments", body);
}

export async function audit() {
  return list(await get("/api/audit" + query({ limit: 200 })), "entries")
    .map((e) => ({ ...e, object_id: e.object_id || e.object }));
}

// -- users and keys (admins) -------------------------------------------------------------------

export async function users() {
  return list(await get("/api/console/users"), "users");
}

export async function keys() {
  return list(await get("/api/console/keys"), "keys");
}

export async function createUser(body) {
  return post("/api/console/users", body);
}

export async function disableUser(username) {
  return post(`/api/console/users/${enc(username)}/disable`, {});
}

export async function createKey(body) {
  return post("/api/console/keys", body);
}

export async function revokeKey(keyId) {
  return post(`/api/console/keys/${enc(keyId)}/revoke`, {});
}
