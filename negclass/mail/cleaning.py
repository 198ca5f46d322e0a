"""Clean a message down to what its author newly wrote.

HTML becomes text (``html2text``); then quoted replies, forwarded headers, '>' lines, signatures,
mobile footers and legal disclaimers are cut with line rules that know the common mail clients
(Gmail, Outlook desktop/web/mobile, Apple Mail, iOS, Thunderbird, Lotus Notes) in English, German,
French, Spanish, Italian, Dutch, Portuguese, Swedish and Polish. See ``docs/ingestion.md`` for why
these rules rather than a reply-parsing library.

Rules of thumb:

* a reply keeps only the text above the quoted message; inline answers between '>' lines are kept;
* a forward marker with no new words above it gives no new text: the forwarded words are someone
  else's; under a short note such as "FYI" the note and the forwarded text are kept, since the
  note makes it what the sender is passing on (minus the forward's header lines and its own
  quoted history); an Outlook/Lotus header block with nothing above it keeps its content;
* a message that is only quoted text has no new text: ``clean`` returns an empty text.

``clean`` runs on every message at training and prediction time: keep it fast and idempotent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

class _Folded:
    """A case-insensitive regex, faster on ASCII text: there it runs case-sensitively over the
    lower-cased text (same length, so match positions hold for the original). Python's ``re`` is
    several times slower with IGNORECASE on long alternations. The pattern must be lower case."""

    def __init__(self, pattern: str, flags: int = 0):
        if any(c.isupper() for c in re.sub(r"\\.", "", pattern)):
            raise ValueError("a folded pattern must be written in lower case")
        self.folded = re.compile(pattern, flags)
        self.pattern = re.compile(pattern, flags | re.IGNORECASE)

    def _pick(self, text: str):
        return (self.folded, text.lower()) if text.isascii() else (self.pattern, text)

    def search(self, text: str):
        rx, subject = self._pick(text)
        return rx.search(subject)

    def finditer(self, text: str):
        rx, subject = self._pick(text)
        return rx.finditer(subject)

    def count(self, text: str) -> int:
        """How many non-overlapping matches ``text`` holds."""
        rx, subject = self._pick(text)
        return sum(1 for _ in rx.finditer(subject))


_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|table|span|font)\b", re.IGNORECASE)

# -- boundaries ---------------------------------------------------------------------------
_WROTE = (r"wrote|writes|schrieb|a écrit|escribió|escreveu|ha scritto|scrisse|schreef|skrev|napisał\(a\)|napisał|"
          r"napisała|kirjoitti|írta|yazdı|написал\(а\)|написал|написала")
# Lotus Notes wraps its long forward marker: "----- Forwarded by Name/ORG on 09/12/2000" + "11:22 AM -----"
_LOTUS_WRAP = r"(?:\n[^\n]{0,40}?\d{1,2}:\d{2}[^\n]{0,12}?-{3,})?"
# "On <date>, <name> wrote:" and translations; the intro may be wrapped over two lines.
_REPLY_INTRO = re.compile(
    r"^[ \t>]*(?:On|Am|Le|El|Il|Em|Op|Den|W dniu|Dne|Le\s|\S.{0,20}\d)[^\n]{0,200}(?:\n[^\n]{0,200})?"
    r"(?:" + _WROTE + r")[ \t]*:[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
_ORIGINAL = re.compile(
    r"^[ \t>]*-{2,}[ \t]*(?:Original Message|Original-Nachricht|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Messaggio originale|Oorspronkelijk bericht|Mensagem original|Ursprungligt meddelande|"
    r"Oryginalna wiadomość|Reply message)[ \t]*-{2,}[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
_FORWARD = re.compile(
    r"^[ \t>]*-{2,}[ \t]*(?:Forwarded message|Forwarded by[^\n]*" + _LOTUS_WRAP + r"|Weitergeleitete Nachricht|Message transféré|"
    r"Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht|Mensagem encaminhada|Vidarebefordrat meddelande|"
    r"Forwarded Message)[ \t]*-*[ \t]*$"
    r"|^[ \t>]*(?:Begin forwarded message|Début du message réexpédié|Anfang der weitergeleiteten Nachricht|"
    r"Inicio del mensaje reenviado)[ \t]*:[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
_RULE = re.compile(r"^[ \t]*(?:_{8,}|\* \* \*|-{8,})[ \t]*$", re.MULTILINE)
_H_FROM = r"(?:From|De|Von|Da|Van|Från|Od|Fra|Lähettäjä)"
_H_SENT = r"(?:Sent|Date|Envoyé|Gesendet|Datum|Enviado(?: el)?|Fecha|Inviato|Data|Verzonden|Skickat|Wysłano|Sendt)"
_H_SUBJ = r"(?:Subject|Objet|Betreff|Asunto|Oggetto|Onderwerp|Ämne|Temat|Assunto|Emne)"
_H_TO = r"(?:To|À|An|Para|A|Aan|Till|Do|Til|cc)"
# An Outlook/Lotus header block: a From-ish line, then Sent/To and Subject within a few lines
# (scanned line by line in ``_header_block``: one regex over the block backtracks badly).
_H_FROM_LINE = re.compile(r"^[ \t>*]*" + _H_FROM + r"[ \t]*:", re.IGNORECASE | re.MULTILINE)
_H_SUBJ_LINE = re.compile(r"^[ \t>*]*" + _H_SUBJ + r"[ \t]*:", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^[ \t>*]*(?:" + _H_FROM + "|" + _H_SENT + "|" + _H_SUBJ + "|" + _H_TO + r"|Cc|Bcc|Reply-To|Importance)[ \t]*:",
    re.IGNORECASE)
_HEADER_SENT = re.compile(r"^[ \t>*]*(?:" + _H_SENT + "|" + _H_TO + r")[ \t]*:", re.IGNORECASE | re.MULTILINE)
_ADDRESS_LINE = re.compile(r"^[ \t>*]*(?:To|cc|Bcc|À|An|Para|Aan|Till|Do|Til|Kopie|Cc)[ \t]*:", re.IGNORECASE)
# a Lotus Notes stamp ending its line: "John Keiser  02/22/2001 11:02 AM", or the date-time alone
_LOTUS_DATE_LINE = re.compile(r"^([^\n]{0,160}?)\b\d{1,2}/\d{1,2}/\d{2,4}[ \t]+\d{1,2}:\d{2}(?::\d{2})?"
                              r"[ \t]*(?:[AaPp][Mm])?[ \t]*$", re.MULTILINE)
# a Lotus reply's block may have no sender line at all: To: (wrapped), cc:, Subject:
_TO_LINE = re.compile(r"^[ \t>*]*To[ \t]*:", re.IGNORECASE | re.MULTILINE)
_CC_LINE = re.compile(r"^[ \t>*]*cc[ \t]*:", re.IGNORECASE)
_LOTUS_ABOVE = re.compile(r"^[ \t]*(?:Sent by:|Please respond to)", re.IGNORECASE)
_LOTUS_SENDER = _Folded(r"\bon \d{1,2}/\d{1,2}/\d{2,4}")  # "John Smith/ACME on 05/14/2001 09:12 AM"
_LOTUS_STAMP = _Folded(r"on \d{1,2}/\d{1,2}/\d{2,4}")  # the same without \b, which defeats re's literal-prefix search
_QUOTED_LINE = re.compile(r"^[ \t]*>")

# -- signatures, footers, disclaimers -------------------------------------------------------
_SIG_DELIM = re.compile(r"^(?:-- ?|--|__)[ \t]*$", re.MULTILINE)
_MOBILE = re.compile(
    r"^[ \t]*(?:Sent from (?:my |Mail for |Yahoo |Outlook|Samsung|the )[^\n]*|Sent with [^\n]*|"
    r"Get Outlook for [^\n]*|Von meinem [^\n]*gesendet|Envoyé de mon [^\n]*|Enviado desde mi [^\n]*|"
    r"Inviato da[l]? [^\n]*|Verzonden (?:vanaf|met) [^\n]*|Skickat från [^\n]*|Wysłane z [^\n]*)[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
_VALEDICTION = _Folded(
    r"^[ \t]*(?:(?:best|kind|warm|warmest|many|with best)?[ \t]*regards|best(?: wishes)?|cheers|thanks(?: again)?|"
    r"many thanks|thank you|thx|rgds|br|sincerely(?: yours)?|yours(?: sincerely| truly| faithfully)?|respectfully|"
    r"all the best|talk soon|in solidarity|"
    r"mit freundlichen grüßen|mit freundlichen grüssen|freundliche grüße|viele grüße|beste grüße|mfg|lg|"
    r"cordialement|bien à vous|bien cordialement|salutations|"
    r"saludos(?: cordiales)?|un saludo|atentamente|cordiali saluti|distinti saluti|saluti|"
    r"met vriendelijke groet(?:en)?|groeten|atenciosamente|abraços|med vänliga hälsningar|hälsningar|"
    r"z poważaniem|pozdrawiam)[ \t]*[,.!]?[ \t]*$",
    re.MULTILINE)
_DISCLAIMER = _Folded(
    r"intended (?:only |solely |exclusively )?for (?:the )?(?:(?:sole )?use of )?(?:the )?(?:named )?"
    r"(?:addressee|recipient|individual|person|entity)"
    r"|if you (?:are not the intended|have received this|received this)"
    r"|(?:confidential|privileged|proprietary)(?: information)?,? (?:and|or|and/or) (?:may be )?(?:legally )?"
    r"(?:confidential|privileged|proprietary|exempt)"
    r"|this (?:e-?mail|message|communication|transmission)[^.]{0,60}\b(?:is|are|may|contains?)\b[^.]{0,40}"
    r"\b(?:confidential|privileged)"
    r"|notify (?:the sender|us) (?:immediately|by)|please (?:notify|inform) the sender|and (?:then )?delete (?:it|this|the)"
    r"|unauthori[sz]ed (?:use|review|disclosure|copying|dissemination)|(?:any|the) (?:use|disclosure|copying|"
    r"distribution|dissemination)[^.]{0,60}\bis (?:strictly )?prohibited"
    r"|free (?:of|from) (?:any )?viruses|virus(?:es)? (?:check|scan)"
    r"|vertraulich|destinataire|destinatario|geheimhaltung")

# Words one of which a match of the regex above must contain. For ASCII text, where IGNORECASE
# is plain lower-casing, their absence from the lower-cased text rules the (slow) regex out.
_WROTE_WORDS = ("wrote", "writes", "schrieb", "écrit", "escribió", "escreveu", "scritto", "scrisse", "schreef",
                "skrev", "napisa", "kirjoitti", "írta", "yazdı", "написал")
_DISCLAIMER_WORDS = ("intended", "if you", "confidential", "privileged", "proprietary", "notify", "the sender",
                     "delete", "unauthori", "prohibited", "free of", "free from", "virus", "vertraulich",
                     "destinatari", "geheimhaltung")


def _cannot_match(text: str, words: tuple) -> bool:
    """True when ``text`` is ASCII and holds none of ``words`` (case ignored)."""
    if not text.isascii():
        return False
    low = text.lower()
    return not any(w in low for w in words)


def _reply_intro(text: str):
    if ":" not in text or _cannot_match(text, _WROTE_WORDS):
        return None
    return _REPLY_INTRO.search(text)


def _has_disclaimer(text: str) -> bool:
    return not _cannot_match(text, _DISCLAIMER_WORDS) and _DISCLAIMER.search(text) is not None


_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")
_TABLE_RULE = re.compile(r"^[ \t|:-]*---[ \t|:-]*$", re.MULTILINE)
_BLANKS = re.compile(r"\n{3,}")

_FYI = re.compile(r"\b(?:fyi|see below|below|forwarding|fwd|zur info|pour info|para su información)\b", re.IGNORECASE)
_FORWARD_NOTE_WORDS = 25   # a note above a forward shorter than this keeps the forwarded text
_MAX_DEPTH = 4


@dataclass(frozen=True)
class Cleaned:
    text: str            # the author's new text
    offset: int | None   # where ``text`` starts in the original, when it is a verbatim slice


def html_to_text(html: str) -> str:
    """HTML mail (Outlook's Word HTML included) as plain text, paragraphs and quotes kept."""
    import html2text

    conv = html2text.HTML2Text()
    conv.ignore_links = True
    conv.ignore_images = True
    conv.ignore_emphasis = True
    conv.ignore_tables = True
    conv.body_width = 0
    conv.unicode_snob = True
    try:
        text = conv.handle(html)
    except Exception:  # html2text chokes on some malformed markup: fall back to dropping the tags
        text = re.sub(r"<[^>]+>", " ", html)
    text = _MD_ESCAPE.sub(r"\1", text)
    text = _TABLE_RULE.sub("", text)
    return text.replace("\u00a0", " ")


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text[:2000]))


def _words(text: str) -> int:
    return len(text.split())


def _first_boundary(text: str):
    """The earliest start of quoted or forwarded material: (start, end of its intro, kind) or None.

    ``kind`` is "reply" (an "On ... wrote:" line), "forward" (a forward marker) or "header"
    (an "Original Message" line, a rule or an Outlook/Lotus header block, used for replies and
    forwards alike).
    """
    found = []
    m = _reply_intro(text)
    if m:
        found.append((m.start(), m.end(), "reply"))
    m = _FORWARD.search(text)
    if m:
        found.append((m.start(), m.end(), "forward"))
    m = _ORIGINAL.search(text)
    if m:
        found.append((m.start(), m.end(), "header"))
    start = _header_block(text)
    if start is not None:
        found.append((start, start, "header"))
    if not found:
        return None
    _rank = {"forward": 0, "reply": 1, "header": 2}
    start, end, kind = min(found, key=lambda f: (f[0], _rank[f[2]]))
    # a rule line ("____", "* * *") just above a header block belongs to it
    before = text[:start].rstrip()
    rule = None
    for rule in _RULE.finditer(before):
        pass
    if rule is not None and not before[rule.end():].strip():
        start = rule.start()
    return start, end, kind


_HEADER_LINES = 8        # a header block's Subject: line comes within this many lines of its start
_WRAPPED_ADDRESSES = 60  # ... not counting the lines a long To:/cc: list is wrapped onto, up to this many


def _header_block(text: str) -> int | None:
    """Start of the first Outlook/Lotus header block (From:, then Sent:/To: and Subject:)."""
    lotus_dates = _lotus_date_lines(text)
    to_lines = {m.start() for m in _TO_LINE.finditer(text)} if "cc" in text.lower() else set()
    candidates = sorted({m.start() for m in _H_FROM_LINE.finditer(text)} | _lotus_lines(text) | set(lotus_dates)
                        | to_lines)
    for start in candidates:
        lines = text[start:].split("\n", _HEADER_LINES + _WRAPPED_ADDRESSES)
        lotus = start in lotus_dates or _LOTUS_SENDER.search(lines[0]) is not None
        bare_to = start in to_lines and not lotus and not _H_FROM_LINE.match(lines[0])
        sent, counted, addresses, cc = lotus or bare_to, 1, bare_to, False
        for line in lines[1:]:
            if not line.strip():
                addresses = False
                continue  # blank lines (Lotus leaves several) do not count
            if _H_SUBJ_LINE.match(line):
                if sent and (cc or not bare_to):
                    return lotus_dates.get(start, start)
                break
            if _HEADER_SENT.match(line):
                sent = True
                addresses = _ADDRESS_LINE.match(line) is not None
                cc = cc or _CC_LINE.match(line) is not None
            elif addresses and not _HEADER_LINE.match(line):
                continue  # a wrapped To:/cc: list
            else:
                addresses = False
            counted += 1
            if counted >= _HEADER_LINES:
                break
    return None


def _lotus_date_lines(text: str) -> dict[int, int]:
    """Lotus Notes stamp lines ("Name  MM/DD/YYYY HH:MM AM", or the date-time alone): line start ->
    where the block starts. A date-time alone takes the name line above it (one blank line may
    separate them) and any "Sent by:" / "Please respond to" lines."""
    if "/" not in text or ":" not in text:
        return {}
    out = {}
    for m in _LOTUS_DATE_LINE.finditer(text):
        start = block = m.start()
        if not m.group(1).strip():
            block = _lotus_name_above(text, start)
        out[start] = block
    return out


def _lotus_name_above(text: str, start: int) -> int:
    block, blanks, named = start, 0, False
    while block > 0 and not named:
        prev = text.rfind("\n", 0, block - 1) + 1
        line = text[prev:block - 1]
        if not line.strip():
            blanks += 1
            if blanks > 1:
                break
        elif _LOTUS_ABOVE.match(line):
            blanks = 0
        elif len(line.split()) <= 8 and not line.rstrip().endswith((".", "!", "?", ",", ";", ":")):
            named = True
        else:
            break
        block = prev
    return block if named else start


def _lotus_lines(text: str) -> set[int]:
    """Starts of lines with a Lotus Notes sender stamp ("... on 05/14/2001") 1 to 120 characters in."""
    if "/" not in text:
        return set()
    starts = set()
    for m in _LOTUS_STAMP.finditer(text):
        at = m.start()
        if at and (text[at - 1].isalnum() or text[at - 1] == "_"):  # not at a word boundary
            continue
        line = text.rfind("\n", 0, at) + 1
        if 1 <= at - line <= 120:
            starts.add(line)
    return starts


def _skip_headers(text: str) -> str:
    """Drop the header lines (From:, Sent:, To:, Subject: ... and Lotus sender lines) at the top."""
    lines = text.split("\n")
    i = 0
    addresses = False
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            addresses = False
            continue
        if _HEADER_LINE.match(line) or _LOTUS_SENDER.search(line) or _RULE.match(line):
            addresses = _ADDRESS_LINE.match(line) is not None
            i += 1
            continue
        if addresses and ("@" in line or "/" in line):  # a wrapped To:/cc: list
            i += 1
            continue
        if _LOTUS_DATE_LINE.match(line) or _LOTUS_ABOVE.match(line):
            i += 1
            continue
        if i + 1 < len(lines) and _HEADER_LINE.match(lines[i + 1]) and i < 3:  # "John Smith" above "To:"
            i += 1
            continue
        below = next((ln for ln in lines[i + 1:i + 3] if ln.strip()), "")
        if i < 6 and _LOTUS_DATE_LINE.match(below) and not _LOTUS_DATE_LINE.match(below).group(1).strip():
            i += 1  # "John Smith" above a Lotus date-time line
            continue
        break
    return "\n".join(lines[i:])


def _drop_quoted_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not _QUOTED_LINE.match(line))


def _strip_footer(text: str) -> str:
    """Cut signature delimiters, mobile footers, sign-offs with what follows, and disclaimers."""
    m = _SIG_DELIM.search(text)
    if m and text[: m.start()].strip():
        text = text[: m.start()]
    m = _MOBILE.search(text)
    if m and text[: m.start()].strip():
        text = text[: m.start()] + text[m.end():]
    for m in _VALEDICTION.finditer(text):
        if _words(text[: m.start()]) >= 3:
            text = text[: m.end()]
            break
    if _has_disclaimer(text):
        paragraphs = re.split(r"\n[ \t]*\n", text)
        kept = [p for p in paragraphs if _DISCLAIMER.count(p) < 2]
        if kept and len(kept) < len(paragraphs):
            text = "\n\n".join(kept)
    return text


def new_text(text: str, _depth: int = 0) -> str:
    """The newest part of a plain-text message (see the module's rules of thumb)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    boundary = _first_boundary(text)
    if boundary is None:
        body = _drop_quoted_lines(text) if ">" in text else text
        return _tidy(_strip_footer(body))
    start, end, kind = boundary
    above = _tidy(_strip_footer(_drop_quoted_lines(text[:start])))
    rest = text[end:]
    if kind == "reply":
        # inline answers: lines written between the quoted ones
        inline = _tidy(_strip_footer(_drop_quoted_lines(rest))) if not _first_boundary(rest) else ""
        if _depth < _MAX_DEPTH and not above and inline and "\n>" in "\n" + rest:
            return inline
        return above
    if _depth >= _MAX_DEPTH:
        return above
    if kind == "forward":
        if not above or _words(above) >= _FORWARD_NOTE_WORDS:
            return above  # nothing new from the sender, or a note long enough to stand alone
    elif above and not (_words(above) <= 12 and _FYI.search(above)):
        return above  # a reply above an Outlook/Lotus block: the block is the quoted history
    forwarded = new_text(_skip_headers(rest), _depth + 1)
    return _tidy(f"{above}\n\n{forwarded}") if above else forwarded


def _tidy(text: str) -> str:
    text = "\n".join(line.rstrip(" \t\u00a0") for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def clean(text: str, html: bool | None = None) -> Cleaned:
    """Clean one message. ``html`` forces HTML handling; ``None`` sniffs it."""
    if not text:
        return Cleaned("", None)
    original = text
    if html or (html is None and looks_like_html(text)):
        text = html_to_text(text)
    body = new_text(text)
    pos = original.find(body) if body else -1
    return Cleaned(body, pos if pos >= 0 else None)


WINDOW_CHARS = 4000
WINDOW_OVERLAP = 400


def windows(text: str, size: int = WINDOW_CHARS, overlap: int = WINDOW_OVERLAP) -> list[tuple[int, int]]:
    """Character spans that cover ``text`` in pieces of at most ``size`` characters.

    A text up to ``size`` characters is one span. A longer one is cut at line breaks (or spaces)
    with ``overlap`` characters shared between neighbours, so a sentence on a boundary is read
    whole by one of them. Nothing is left out, however long the text.
    """
    n = len(text)
    if n <= size:
        return [(0, n)]
    spans, start = [], 0
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = text.rfind("\n", start + size // 2, end)
            if cut < 0:
                cut = text.rfind(" ", start + size // 2, end)
            end = cut + 1 if cut >= 0 else end
        spans.append((start, end))
        if end >= n:
            break
        nxt = max(end - overlap, start + 1)
        space = text.find(" ", nxt, end)  # start the next piece on a word boundary
        start = space + 1 if space >= 0 else nxt
    return spans
