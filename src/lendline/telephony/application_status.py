"""What the IVR says for "3 申请进度": the caller's loan application status, by ID number."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from lendline.compliance.fieldcrypt import FieldCipher
from lendline.store.base import Database
from lendline.store.models import CustomerRow, LoanAccountRow

STATUS_ZH = {
    "applied": "审核中",
    "approved": "已批准，等待放款",
    "rejected": "未通过",
    "active": "已放款，正在还款",
    "overdue": "已逾期，请尽快还款",
    "closed": "已结清",
    "written_off": "已核销",
}


class ApplicationStatus:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self.db = db
        self.cipher = cipher

    def text(self, id_number: str) -> str:
        digest = self.cipher.digest(id_number.upper())
        with self.db.session() as s:
            customer = s.scalars(select(CustomerRow).where(CustomerRow.id_digest == digest)).first()
            if customer is None:
                return "未查询到与该身份证号码对应的申请。"
            loan = s.scalars(
                select(LoanAccountRow)
                .where(LoanAccountRow.customer_id == customer.customer_id)
                .order_by(LoanAccountRow.opened_at.desc())
            ).first()
            if loan is None:
                return "您目前没有贷款申请。"
            status = STATUS_ZH.get(loan.status, loan.status)
            return f"您最近一笔贷款的状态是：{status}。"

    async def __call__(self, id_number: str) -> str:
        return await asyncio.to_thread(self.text, id_number)
