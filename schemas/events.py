"""One model per event type (schema version 1). Field names are the contract; see docs/events.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from schemas.envelope import Contract, Envelope
from schemas.vocabulary import (
    AccountType,
    AdjustmentReason,
    Channel,
    CloseKind,
    DepositCategory,
    MarginKind,
    OrgAction,
    Product,
    Segment,
    UnitKind,
    VisitChannel,
    VisitorRole,
)

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Yuan = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
SignedPoints = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]


class AccountOpenedData(Contract):
    account_id: Ident
    customer_id: Ident
    cm_id: Ident
    sub_branch_id: Ident | None = None
    account_type: AccountType
    segment: Segment
    channel: Channel = Channel.OTHER
    new_firm: bool = False


class AccountClosedData(Contract):
    account_id: Ident
    customer_id: Ident
    cm_id: Ident  # the manager of record: scoring is keyed by customer manager
    kind: CloseKind = CloseKind.CLOSED


class PayrollSignedData(Contract):
    agreement_id: Ident
    employer_id: Ident
    cm_id: Ident
    employees: int = Field(ge=0)


class PayrollPaidData(Contract):
    agreement_id: Ident
    employer_id: Ident
    batch_id: Ident
    cm_id: Ident
    headcount: int = Field(ge=0)
    amount: Yuan
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")


class DepositBalanceData(Contract):
    account_id: Ident
    customer_id: Ident
    cm_id: Ident
    category: DepositCategory
    margin_kind: MarginKind | None = None
    balance: Yuan
    as_of: dt.date


class ProductSoldData(Contract):
    sale_id: Ident
    customer_id: Ident
    cm_id: Ident
    product: Product
    amount: Yuan = Decimal(0)


class CustomerAssignedData(Contract):
    customer_id: Ident
    cm_id: Ident
    segment: Segment


class TransferredAccount(Contract):
    """One account that changes manager, as core banking reports it at the transfer."""

    account_id: Ident
    balance: Yuan = Field(description="The balance at the end of the day before effective_from.")
    category: DepositCategory
    # The manager credited with the account's opening (开户营销人), if known: a closing reported
    # under a later manager is passed to them, so a clawback reaches the points it takes back.
    opened_by_cm_id: Ident | None = None


class CustomerTransferredData(Contract):
    """A customer, or some of its accounts, moves from one manager to another (管户移交).

    One event, scored for both managers: the platform writes it to the old manager's history and
    to the new one's (schemas/routing.py participants_of). `cm_id` names the new manager, as in
    every other event that follows the customer."""

    customer_id: Ident
    cm_id: Ident  # the new manager, from effective_from on
    from_cm_id: Ident  # the manager it leaves
    effective_from: dt.date = Field(
        description="The first Shanghai day under the new manager: balances as_of it and later are theirs."
    )
    accounts: list[TransferredAccount] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _two_managers_distinct_accounts(self) -> CustomerTransferredData:
        if self.cm_id == self.from_cm_id:
            raise ValueError("a transfer names two different managers (cm_id and from_cm_id)")
        ids = [a.account_id for a in self.accounts]
        if len(set(ids)) != len(ids):
            raise ValueError("an account is listed twice in one transfer")
        return self


class CustomerVisitedData(Contract):
    customer_id: Ident
    cm_id: Ident  # the customer's manager, credited with the visit
    visitor_id: Ident
    visitor_role: VisitorRole = VisitorRole.CUSTOMER_MANAGER
    channel: VisitChannel


class OrgChangedData(Contract):
    cm_id: Ident
    cm_name: str | None = Field(default=None, max_length=64)
    action: OrgAction
    unit_kind: UnitKind
    unit_id: Ident
    # The unit's display name (城东支行); optional, so older producers stay valid. The newest
    # change that carries one names the unit on every screen.
    unit_name: str | None = Field(default=None, max_length=64)
    effective_from: dt.date


class PointsAdjustedData(Contract):
    """A manual change of one manager's points in one competition, made in the organisers'
    console. The scoring core books it as the component "adjustment"."""

    competition_id: Ident
    cm_id: Ident
    points: SignedPoints = Field(description="Signed: negative takes points away.")
    reason_code: AdjustmentReason
    note: str = Field(min_length=1, max_length=200)
    adjusted_by: str = Field(min_length=1, max_length=64, description="Who made it (the console's actor).")
    related_cm_id: Ident | None = None  # the other manager of a split
    group_id: Ident | None = None  # shared by the events of one console action (a split's two halves)

    @field_validator("points")
    @classmethod
    def _not_zero(cls, value: Decimal) -> Decimal:
        if not value:
            raise ValueError("an adjustment of 0 points changes nothing")
        return value


class AccountOpened(Envelope):
    type: Literal["account.opened"] = "account.opened"
    data: AccountOpenedData


class AccountClosed(Envelope):
    type: Literal["account.closed"] = "account.closed"
    data: AccountClosedData


class PayrollSigned(Envelope):
    type: Literal["payroll.signed"] = "payroll.signed"
    data: PayrollSignedData


class PayrollPaid(Envelope):
    type: Literal["payroll.paid"] = "payroll.paid"
    data: PayrollPaidData


class DepositBalance(Envelope):
    type: Literal["deposit.balance"] = "deposit.balance"
    data: DepositBalanceData


class ProductSold(Envelope):
    type: Literal["product.sold"] = "product.sold"
    data: ProductSoldData


class CustomerAssigned(Envelope):
    type: Literal["customer.assigned"] = "customer.assigned"
    data: CustomerAssignedData


class CustomerTransferred(Envelope):
    type: Literal["customer.transferred"] = "customer.transferred"
    data: CustomerTransferredData


class CustomerVisited(Envelope):
    type: Literal["customer.visited"] = "customer.visited"
    data: CustomerVisitedData


class OrgChanged(Envelope):
    type: Literal["org.changed"] = "org.changed"
    data: OrgChangedData


class PointsAdjusted(Envelope):
    type: Literal["points.adjusted"] = "points.adjusted"
    data: PointsAdjustedData


Event = (
    AccountOpened
    | AccountClosed
    | PayrollSigned
    | PayrollPaid
    | DepositBalance
    | ProductSold
    | CustomerAssigned
    | CustomerTransferred
    | CustomerVisited
    | OrgChanged
    | PointsAdjusted
)
