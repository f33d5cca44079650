"""Jinja2 rendering of the Vietnamese notice templates shipped in `pulse_notify/templates`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from pulse_notify.domain.model import ChannelName, Message
from pulse_notify.domain.notices import accent_free, clip, fits_sms, nfc

KINDS = (
    "raised",
    "escalated",
    "reminded",
    "acknowledged",
    "resolved",
    "orientation",
    "bulletin",
    "receipt",
    "directive",
    "directive_reminder",
    "directive_overdue",
    "outcome",
)
_SMS_CLIPS = (120, 80, 60, 40, 28, 20, 14, 10, 6)


class Renderer:
    """Renders one message per (kind, channel) from package templates; HTML is autoescaped."""

    def __init__(self, *, sms_accent_free: bool = False, sms_max_segments: int = 3) -> None:
        self._accent_free = sms_accent_free
        self._max_segments = sms_max_segments
        self._env = Environment(
            loader=PackageLoader("pulse_notify", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=False,
        )
        self._env.filters["clip"] = clip

    def _render(self, name: str, context: Mapping[str, Any]) -> str:
        return nfc(self._env.get_template(name).render(**context).strip())

    def render(self, kind: str, channel: ChannelName, context: Mapping[str, Any]) -> Message:
        """Render the message of `kind` for `channel`."""
        if channel == "email":
            text = self._render(f"{kind}.email.txt", context)
            subject, _, body = text.partition("\n")
            html = self._render(f"{kind}.email.html", context)
            return Message(subject=subject.strip(), text=body.strip(), html=html)
        if channel == "sms":
            return Message(subject="", text=self._render_sms(kind, context))
        text = self._render(f"{kind}.{channel}.txt", context)
        return Message(subject=text.partition("\n")[0], text=text)

    def _render_sms(self, kind: str, context: Mapping[str, Any]) -> str:
        text = ""
        for n in _SMS_CLIPS:
            text = self._render(f"{kind}.sms.txt", {**context, "n": n})
            if self._accent_free:
                text = accent_free(text)
            if fits_sms(text, self._max_segments):
                return text
        return clip(text, (153 if self._accent_free else 67) * self._max_segments)
