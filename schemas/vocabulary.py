"""The closed word lists of the domain (see docs/events.md for the Chinese terms)."""

from __future__ import annotations

from enum import StrEnum


class AccountType(StrEnum):
    BASIC = "basic"  # 基本户: one per firm, the prized kind
    GENERAL = "general"  # 一般户
    SPECIAL = "special"  # 专用户
    TEMPORARY = "temporary"  # 临时户


class Segment(StrEnum):
    CREDIT_ONLINE = "credit_online"  # 线上授信
    CREDIT_OFFLINE = "credit_offline"  # 线下授信
    NON_CREDIT = "non_credit"  # 非授信


class Channel(StrEnum):
    TAX_AGENT = "tax_agent"  # 税务师事务所
    BOOKKEEPER = "bookkeeper"  # 代账会计
    REGISTRATION_OFFICE = "registration_office"  # 工商注册部门
    TAX_BUREAU = "tax_bureau"  # 税务部门
    DEVELOPMENT_COMMISSION = "development_commission"  # 发改委
    INDUSTRIAL_PARK = "industrial_park"  # 园区招商
    CUSTOMER_REFERRAL = "customer_referral"  # 存客转介
    PERSONAL_REFERRAL = "personal_referral"  # 亲朋推荐
    CORPORATE_LINKAGE = "corporate_linkage"  # 大公司联动 (1+N)
    WALK_IN = "walk_in"  # 自然到店
    OTHER = "other"


class CloseKind(StrEnum):
    CLOSED = "closed"  # 销户
    MOVED_AWAY = "moved_away"  # 挪户


class DepositCategory(StrEnum):
    SETTLEMENT = "settlement"  # 结算存款
    PURE = "pure"  # 纯存款
    MARGIN = "margin"  # 保证金存款
    SAVINGS = "savings"  # 储蓄存款


class MarginKind(StrEnum):
    BANK_ACCEPTANCE = "bank_acceptance"  # 银票
    CERTIFICATE_PLEDGE = "certificate_pledge"  # 存单质押
    GUARANTEE = "guarantee"  # 保函


class Product(StrEnum):
    BILL_DISCOUNT = "bill_discount"  # 票据贴现
    INTERNATIONAL_SETTLEMENT = "international_settlement"  # 国际结算
    CASH_MANAGEMENT = "cash_management"  # 现金管理
    CREDIT_CARD = "credit_card"  # 信用卡
    CORPORATE_WEALTH = "corporate_wealth"  # 对公理财
    TAX_COLLECTION = "tax_collection"  # 代缴税
    UTILITY_COLLECTION = "utility_collection"  # 代扣水电费
    OTHER = "other"


class VisitChannel(StrEnum):
    PHONE = "phone"
    ON_SITE = "on_site"
    SMS = "sms"
    ONLINE = "online"


class VisitorRole(StrEnum):
    CUSTOMER_MANAGER = "customer_manager"  # 客户经理
    TEAM_LEAD = "team_lead"  # 团队负责人
    VICE_PRESIDENT = "vice_president"  # 分管行长


class OrgAction(StrEnum):
    JOIN = "join"
    LEAVE = "leave"


class UnitKind(StrEnum):
    SUB_BRANCH = "sub_branch"  # 支行
    TEAM = "team"  # 团队


class AdjustmentReason(StrEnum):
    """Why an organiser changed a manager's points by hand (points.adjusted)."""

    SPLIT_CREDIT = "split_credit"  # 业绩拆分: one account's credit shared between two managers
    DEPARTMENT_CORRECTION = "department_correction"  # 部门更正: ordered by the 普惠金融 department
    DATA_FIX = "data_fix"  # 数据修正: the source system got it wrong
    OTHER = "other"  # 其他
