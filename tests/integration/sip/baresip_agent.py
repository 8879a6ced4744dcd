"""baresip 1.0 as an agent's softphone, headless: registers, auto-answers, plays a WAV file
(``aufile``), records what it hears (``sndfile``), driven over ``ctrl_tcp`` if needed."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import numpy as np

from lendline.telephony.media.sources import save_wav

HAVE_BARESIP = shutil.which("baresip") is not None


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tone_wav(path: Path, seconds: float, freq_hz: float = 600.0) -> Path:
    """An 8 kHz 16-bit tone, long enough that the call does not end with the file."""
    t = np.arange(int(seconds * 8000)) / 8000.0
    save_wav(path, (np.sin(2 * np.pi * freq_hz * t) * 8000).astype(np.int16))
    return path


class BaresipAgent:
    def __init__(
        self,
        workdir: Path,
        user: str,
        password: str,
        registrar: str,
        audio: Path,
        *,
        answermode: str = "auto",
        regint: int = 300,
    ) -> None:
        """``regint=0``: do not register (a caller's phone that only dials out)."""
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ctrl_port = _free_tcp_port()
        (self.dir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    "sip_listen 127.0.0.1:0",
                    f"audio_source aufile,{audio}",
                    "audio_player aubridge,nil",
                    "audio_alert aubridge,nil",
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aufile.so",
                    "module aubridge.so",
                    "module sndfile.so",
                    "module_app account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
                    "",
                ]
            )
        )
        (self.dir / "accounts").write_text(
            f"<sip:{user}@{registrar};transport=udp>;auth_pass={password};"
            f"answermode={answermode};regint={regint}\n"
        )
        (self.dir / "contacts").write_text("")
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "baresip",
            "-f",
            str(self.dir),
            cwd=str(self.dir),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def stop(self) -> str:
        if self.proc is None:
            return ""
        if self.proc.returncode is None:
            self.proc.terminate()
        out, _ = await asyncio.wait_for(self.proc.communicate(), 10)
        return out.decode(errors="replace")

    async def command(self, command: str, params: str = "") -> str:
        """Send one ctrl_tcp command (netstring-framed JSON); the raw reply."""
        import json

        reader, writer = await asyncio.open_connection("127.0.0.1", self.ctrl_port)
        body = json.dumps({"command": command, "params": params, "token": "t1"}).encode()
        writer.write(f"{len(body)}:".encode() + body + b",")
        await writer.drain()
        try:
            reply = await asyncio.wait_for(reader.read(4096), 5)
        except TimeoutError:
            reply = b""
        writer.close()
        return reply.decode(errors="replace")

    def heard(self) -> list[Path]:
        """WAV files sndfile wrote (what the agent heard, and what it sent)."""
        return sorted(self.dir.glob("*.wav"))
