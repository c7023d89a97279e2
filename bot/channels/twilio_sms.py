"""SMS through Twilio: signed webhooks to IncomingMessage, replies through the REST API."""

import base64
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import phonenumbers
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot import gsm7
from bot.channels.base import DeliveryError, Ignored, IncomingMessage, OutgoingMessage, WebhookError

log = logging.getLogger(__name__)

NAME = "sms"
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_BODY = 1600  # Twilio refuses longer bodies (error 21617)
SEND_TIMEOUT_SECONDS = 15.0
# Twilio error codes, see https://www.twilio.com/docs/api/errors
UNSUBSCRIBED = 21610  # the recipient replied STOP to this sender
RATE_LIMITED = 20429
# Twilio's own keyword handling (Advanced Opt-Out) names what it understood.
OPT_OUT_KEYWORDS = {"STOP": "STOP", "START": "START", "HELP": "AIDE"}
# Delivery statuses in the order they happen; a status never moves backwards.
STATUS_ORDER = {"accepted": 0, "queued": 1, "sending": 2, "sent": 3, "receiving": 3,
                "received": 4, "delivered": 5, "read": 6, "undelivered": 7, "failed": 7,
                "canceled": 7}


@dataclass(frozen=True)
class StatusReport:
    """What a Twilio status callback says about one message we sent."""

    provider_id: str
    status: str
    error_code: str | None


def normalise_number(raw: str, region: str = "FR") -> str | None:
    """Returns a phone number in E.164 (+33612345678), or None when it is not one."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class TimeoutTwilioHttpClient(AsyncTwilioHttpClient):
    """The twilio aiohttp client with a real total timeout (twilio 9 ignores the constructor's)."""

    async def request(self, method, url, params=None, data=None, headers=None, auth=None,
                      timeout=None, allow_redirects=False):  # noqa: ASYNC109 - parent signature
        if auth is not None:  # a header, because aiohttp deprecates auth=BasicAuth
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        return await super().request(method, url, params=params, data=data, headers=headers,
                                     auth=None, timeout=timeout or self.timeout,
                                     allow_redirects=allow_redirects)


class TwilioSms:
    """The SMS channel: one Twilio account, one sender, one public address."""

    name = NAME
    status_order = STATUS_ORDER
    unsubscribed = UNSUBSCRIBED

    def __init__(self, account_sid: str, auth_token: str, sender: str, public_url: str,
                 api_base_url: str, clock: Callable[[], datetime] | None = None) -> None:
        self.account_sid = account_sid
        self.sender = sender
        self.public_url = public_url.rstrip("/")
        self.api_base_url = api_base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self._auth_token = auth_token
        self.clock = clock or (lambda: datetime.now(UTC))
        self.client: Client | None = None

    async def start(self) -> None:
        """Opens the REST client (its aiohttp session needs the running loop)."""
        self.client = Client(self.account_sid, self._auth_token,
                             http_client=TimeoutTwilioHttpClient(timeout=SEND_TIMEOUT_SECONDS))
        # Edges and regions rewrite the host name; the base URL says where the API is.
        self.client.edge = self.client.region = None
        self.client.api.base_url = self.api_base_url

    async def close(self) -> None:
        """Closes the REST client."""
        if self.client is not None:
            await self.client.http_client.close()
            self.client = None

    # -- inbound

    async def _signed_form(self, request: web.Request):
        form = await request.post()
        signature = request.headers.get(SIGNATURE_HEADER, "")
        # raw_path: the path and query exactly as sent, percent-escapes included, as signed.
        if not signature or not self.signature_is_valid(request.raw_path, form, signature):
            raise WebhookError(403, "signature Twilio absente ou invalide")
        if form.get("AccountSid") != self.account_sid:
            raise WebhookError(403, "compte Twilio inconnu")
        return form

    def signature_is_valid(self, path_qs: str, params, signature: str) -> bool:
        """Checks X-Twilio-Signature over the public URL, never over the Host header we got."""
        # The configured public URL, not the request's host: behind a TLS-terminating proxy the
        # request arrives as http://127.0.0.1, while Twilio signed https://relais.example.
        url = self.public_url + path_qs
        for candidate in _with_and_without_port(url):
            expected = self.validator.compute_signature(candidate, params)
            # see https://www.twilio.com/docs/usage/webhooks/webhooks-security
            if hmac.compare_digest(expected.encode(), signature.encode()):
                return True
        return False

    async def read_webhook(self, request: web.Request) -> IncomingMessage | Ignored:
        """Reads a signed inbound SMS; raises WebhookError when forged or incomplete."""
        form = await self._signed_form(request)
        for field in ("MessageSid", "From"):
            if not form.get(field):
                raise WebhookError(400, f"champ {field} manquant")
        address = normalise_number(form["From"])
        if address is None:
            return Ignored("expéditeur qui n'est pas un numéro de téléphone")
        text = form.get("Body", "")
        payload: dict = {}
        if _int(form.get("NumMedia")) > 0:
            payload["media"] = "mms"
        keyword = OPT_OUT_KEYWORDS.get(str(form.get("OptOutType", "")).upper())
        if keyword:
            payload["keyword"] = keyword
        if keyword == "STOP":
            # Twilio already confirmed the opt-out, and would refuse anything sent after it.
            payload["answered_by_provider"] = True
        return IncomingMessage(channel=NAME, address=address, provider_id=form["MessageSid"],
                               text=text, received_at=self.clock(), payload=payload)

    async def read_status(self, request: web.Request) -> StatusReport:
        """Reads a signed delivery status callback."""
        form = await self._signed_form(request)
        for field in ("MessageSid", "MessageStatus"):
            if not form.get(field):
                raise WebhookError(400, f"champ {field} manquant")
        # A status Twilio adds one day is accepted and ignored (see STATUS_ORDER), not refused.
        status = str(form["MessageStatus"]).lower()[:20]
        return StatusReport(form["MessageSid"], status, form.get("ErrorCode") or None)

    @staticmethod
    def acknowledge() -> web.Response:
        """Returns the empty TwiML answer: every reply goes through the outbox."""
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    # -- outbound

    async def send(self, address: str, message: OutgoingMessage) -> str | None:
        """Sends one SMS, normalised to GSM-7 where that keeps the meaning."""
        if self.client is None:
            raise DeliveryError("client Twilio non démarré")
        options = {"to": address, "body": gsm7.normalise(message.text)[:MAX_BODY]}
        if self.sender.startswith("MG"):
            options["messaging_service_sid"] = self.sender
        else:
            options["from_"] = self.sender
        if self.public_url.startswith("https://"):
            options["status_callback"] = f"{self.public_url}/webhooks/twilio/status"
        try:
            sent = await self.client.messages.create_async(**options)
        except TwilioRestException as error:
            raise _delivery_error(error) from error
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise DeliveryError(f"Twilio injoignable : {type(error).__name__}") from error
        return sent.sid


def _delivery_error(error: TwilioRestException) -> DeliveryError:
    reason = f"Twilio {error.status} / {error.code}"
    if error.code == UNSUBSCRIBED:
        return DeliveryError(reason, permanent=True, recipient_stopped=True)
    if error.code == RATE_LIMITED or error.status == 429 or error.status >= 500:
        return DeliveryError(reason)
    return DeliveryError(reason, permanent=True)


def _with_and_without_port(url: str) -> list[str]:
    # Twilio has signed some URLs with the default port and some without.
    parts = urlsplit(url)
    default = {"https": 443, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    if parts.port is None and default:
        with_port = parts._replace(netloc=f"{parts.netloc}:{default}")
        return [url, urlunsplit(with_port)]
    if parts.port == default:
        return [url, urlunsplit(parts._replace(netloc=host))]
    return [url]


def _int(value) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
