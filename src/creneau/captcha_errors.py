"""What a site's CAPTCHA can answer that a person must act on, typed as woob's captcha
capability types it (`InvalidCaptcha`, an unsolvable one): the code refused, or no image a
person could read through creneau. Below the sources, so that a source can raise them."""

from __future__ import annotations

from creneau.details import Said

IMAGE_OR_NONE = ("", "image")  # the challenges a person can pass through creneau (or none)


class CaptchaError(Exception):
    """A CAPTCHA hand-off that cannot go on as it is; `detail` says why, in the person's
    language once rendered."""

    def __init__(self, detail: Said) -> None:
        super().__init__(str(detail or ""))
        self.detail = detail


class UnsolvableCaptcha(CaptchaError):
    """No image a person could solve through creneau: the site refused or failed, or asks
    for a challenge only a browser on the site can pass (`challenge` names it; "" when it
    names none)."""

    def __init__(self, detail: Said, challenge: str = "") -> None:
        super().__init__(detail)
        self.challenge = challenge

    @property
    def browser_only(self) -> bool:
        return self.challenge not in IMAGE_OR_NONE


class InvalidCaptcha(CaptchaError):
    """The site did not accept the code the person typed (it shows a new image)."""
