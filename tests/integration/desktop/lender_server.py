"""A real local HTTP server that plays the lender's CRM / loan / risk systems in tests.

``LenderServer.mode`` chooses how the next requests are answered: ``ok``, ``slow``
(after ``delay_s``), ``error`` (HTTP 500), ``flaky`` (500 for the first ``fail_times``
requests, then ok), ``malformed`` (valid JSON, wrong shape), ``garbage`` (not JSON), or
``hang_up`` (closes the connection without an answer).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CUSTOMERS: dict[str, dict[str, Any]] = {
    "C000001": {
        "customer_id": "C000001",
        "name": "李四",
        "phone": "+8613912345678",
        "id_number": "11010519491231002X",
        "segment": "retail",
        "vip": False,
        "credit_score": 580,
    }
}
LOANS = {
    "loans": [
        {
            "loan_id": "LX1",
            "product": "consumer",
            "loan_type": "personal",
            "principal_fen": 3000000,
            "outstanding_fen": 1200000,
            "rate_pct": "14.6",
            "term_months": 12,
            "status": "overdue",
            "overdue_days": 31,
        }
    ]
}
REPAYMENTS = {
    "repayments": [
        {"loan_id": "LX1", "due_date": "2026-10-27", "amount_fen": 260000, "status": "missed"}
    ]
}
RISK = {"customer_id": "C000001", "flags": [{"flag": "multi_borrowing", "detail": "近3月5家机构"}]}
CONTACTS = {"contacts": [{"at": "2026-11-20T03:00:00Z", "channel": "call", "summary": "催收提醒"}]}


class LenderServer:
    def __init__(self) -> None:
        self.mode = "ok"
        self.delay_s = 0.0
        self.fail_times = 0
        self.requests: list[str] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with server.lock:
                    server.requests.append(self.path)
                    n = len(server.requests)
                    mode = server.mode
                if mode == "slow":
                    time.sleep(server.delay_s)
                if mode == "hang_up":
                    self.close_connection = True
                    self.connection.close()
                    return
                if mode == "error" or (mode == "flaky" and n <= server.fail_times):
                    return self._send(500, b'{"error":"boom"}')
                if mode == "garbage":
                    return self._send(200, b"<html>oops</html>")
                body = server.answer(self.path.split("?")[0])
                if body is None:
                    return self._send(404, b'{"error":"not_found"}')
                if mode == "malformed":
                    body = {"unexpected": True, "loans": "not-a-list", "flags": 3}
                self._send(200, json.dumps(body, ensure_ascii=False).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, path: str) -> dict[str, Any] | None:
        parts = path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "customers" or parts[1] not in CUSTOMERS:
            return None
        if len(parts) == 2:
            return CUSTOMERS[parts[1]]
        return {"loans": LOANS, "repayments": REPAYMENTS, "risk": RISK, "contacts": CONTACTS}.get(
            parts[2]
        )

    def __enter__(self) -> LenderServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
