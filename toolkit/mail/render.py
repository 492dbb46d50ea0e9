"""The words of the monthly digest and the daily appeal reminder (HTML and plain text).

Input is aggregates and codes only (``toolkit.digest`` facts, or a few columns of due appeals
chosen here): nothing that identifies a patient is ever handed to this module.
"""

from __future__ import annotations

import datetime as dt
import html as _html

import pandas as pd

from ..digest import DigestFacts
from .message import build_message

CHART_CID = "denial-trend"
DISPLAY_WIDTH, DISPLAY_HEIGHT = 560, 240  # as toolkit.mail.chart draws it (at 2x)
EMOJI_FONTS = "font-family:'Segoe UI Emoji','Apple Color Emoji','Noto Color Emoji',sans-serif"

# The only Denials columns a reminder may show: codes, dates, payer and staff, no patient data.

_STYLE = ("font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#333;max-width:620px")


def _esc(text) -> str:
    return _html.escape(str(text))


def _day(d: dt.date) -> str:
    return f"{d:%a} {d:%b} {d.day}"


def _change_words(change: int) -> str:
    if change > 0:
        return f"up {change} from last month"
    if change < 0:
        return f"down {-change} from last month"
    return "the same as last month"


def digest_subject(facts: DigestFacts, practice: str = "") -> str:
    prefix = f"{practice}: " if practice else ""
    return f"{prefix}Did you know? Denials in {facts.month.strftime('%B %Y')}"


def digest_texts(facts: DigestFacts, practice: str = "") -> tuple[str, str]:
    """(plain text, HTML) of the monthly digest."""
    month = facts.month.strftime("%B %Y")
    lines_t, blocks = [], []

    headline = f"{facts.denials} new denial{'s' if facts.denials != 1 else ''} in {month}" \
               f" ({_change_words(facts.denials - facts.previous_denials)})"
    if facts.denied_amount:
        headline += f", ${facts.denied_amount:,.2f} denied"
    if facts.denial_rate is not None:
        headline += (f"; denial rate {facts.denial_rate:.1%} ({facts.denied_claims} of the "
                     f"{facts.submitted_claims} claims sent in {facts.month.strftime('%B')} "
                     f"{'was' if facts.denied_claims == 1 else 'were'} denied)")
    lines_t += [f"Did you know? {month}", "", headline + "."]
    blocks.append(f"<h2 style='color:#1f4e79'>Did you know? {_esc(month)}</h2><p>{_esc(headline)}.</p>")

    top = facts.top_reason
    if top:
        said = (f"The top denial reason was {top.label} ({top.key}): {top.count} denial"
                f"{'s' if top.count != 1 else ''}, {_change_words(top.change)}.")
        lines_t += ["", said]
        blocks.append(f"<p><b>The top denial reason was {_esc(top.label)}</b> ({_esc(top.key)}): "
                      f"{top.count} denial{'s' if top.count != 1 else ''}, {_esc(_change_words(top.change))}.</p>")
        if top.tie_note:
            lines_t += [top.tie_note]
            blocks.append(f"<p style='color:#555'>{_esc(top.tie_note)}</p>")
        carc = facts.top_carc
        if carc:
            carc_text = (f"The payers' most frequent reason code was CARC {carc.carc}"
                         + (f" ({carc.reason})" if carc.reason else "")
                         + f": {carc.count} denial{'s' if carc.count != 1 else ''}.")
            lines_t += [carc_text]
            blocks.append(f"<p>{_esc(carc_text)}</p>")
        if top.corrective_action:
            lines_t += [f"What to do: {top.corrective_action}"]
            blocks.append(f"<p style='background:#eef5e9;padding:8px;border-left:4px solid #5a9a3c'>"
                          f"<b>What to do:</b> {_esc(top.corrective_action)}</p>")
    else:
        lines_t += ["", "No denials were logged this month."]
        blocks.append("<p><b>No denials were logged this month.</b></p>")

    trend = ", ".join(f"{m.strftime('%b')} {n}" for m, n in facts.trend)
    lines_t += ["", f"Denials per month (last 12): {trend}"]
    if _has_rates(facts):
        rates = ", ".join(f"{m.strftime('%b')} {'-' if r is None else f'{r:.1%}'}" for m, r in facts.rate_trend)
        lines_t += [f"Denial rate by month submitted (target {facts.target_rate:.0%}): {rates}"]
        caption, alt = "Denial rate by month submitted, last 12 months", f"Denial rate by month: {rates}"
    else:
        caption, alt = "Denials per month, last 12 months", f"Denials per month: {trend}"
    blocks.append(f"<p><b>{_esc(caption)}</b><br>"
                  f"<img src='cid:{CHART_CID}' alt='{_esc(alt)}' width='{DISPLAY_WIDTH}' "
                  f"height='{DISPLAY_HEIGHT}'></p>")

    due = facts.appeals_due
    due_text = (f"{due} appeal{'s are' if due != 1 else ' is'} due in the next 14 days"
                f" (from {_day(facts.as_of)}): see the Denials sheet, Appeal Deadline column.")
    lines_t += ["", due_text]
    blocks.append(f"<p><b>{due}</b> {_esc(due_text.split(' ', 1)[1])}</p>")

    if facts.denial_free_weeks:
        weeks = "; ".join(f"{_day(a)} to {_day(b)}" for a, b in facts.denial_free_weeks)
        n = len(facts.denial_free_weeks)
        plural = "s" if n != 1 else ""
        cheer = f"Denial-Free Week{plural}! No new denials in the week{plural} of {weeks}. Thank you, team!"
        lines_t += ["", cheer]
        # The party popper in a colour-emoji font where the reader has one; where it has none
        # (older Outlook) the sentence stands on its own, and the plain-text part has no emoji.
        blocks.append(f"<p style='background:#fff4d6;padding:8px;border-left:4px solid #e0a800'>"
                      f"<span style=\"{EMOJI_FONTS}\" aria-hidden='true'>&#127881;</span> "
                      f"<b>{_esc(cheer.split('!', 1)[0])}!</b>{_esc(cheer.split('!', 1)[1])}</p>")

    footer = "Codes and counts only: this e-mail carries no patient information."
    if practice:
        footer = f"{practice}. {footer}"
    lines_t += ["", "--", footer]
    blocks.append(f"<p style='color:#888;font-size:12px'>{_esc(footer)}</p>")
    html = f"<html><body><div style='{_STYLE}'>{''.join(blocks)}</div></body></html>"
    return "\n".join(lines_t) + "\n", html


def _has_rates(facts: DigestFacts) -> bool:
    return any(r is not None for _, r in facts.rate_trend)


def digest_chart(facts: DigestFacts) -> bytes:
    """The month's denial rate against the target when the workbook has submitted claims, else
    the denial count per month."""
    from .chart import trend_chart

    labels = [m.strftime("%b\n%Y") if m.month == 1 or i == 0 else m.strftime("%b")
              for i, (m, _) in enumerate(facts.trend)]
    if _has_rates(facts):
        return trend_chart(labels, [r for _, r in facts.rate_trend], percent=True, target=facts.target_rate,
                           y_label="Claims denied")
    return trend_chart(labels, [n for _, n in facts.trend], y_label="Denials")


def digest_message(facts: DigestFacts, *, practice: str = "", sender: str = "", recipients=()):
    text, html = digest_texts(facts, practice)
    chart = digest_chart(facts)
    return build_message(subject=digest_subject(facts, practice), text=text, html=html, sender=sender,
                         recipients=list(recipients), images={CHART_CID: chart})


def reminder_message(due: pd.DataFrame, as_of: dt.date, *, practice: str = "", sender: str = "", recipients=()):
    """The billing manager's daily list of appeals due within 14 days, without PHI."""
    n = len(due)
    subject = f"{practice + ': ' if practice else ''}{n} appeal{'s' if n != 1 else ''} due by " \
              f"{_day(as_of + dt.timedelta(days=14))}"
    rows = []
    for _, r in due.iterrows():
        deadline = pd.Timestamp(r["Appeal Deadline"]).date()
        rows.append({"Denial ID": r.get("Denial ID", ""), "Appeal Deadline": deadline.isoformat(),
                     "Days Left": str((deadline - as_of).days), "Payer": r.get("Payer", ""),
                     "CPT/HCPCS": r.get("CPT/HCPCS", ""), "CARC": r.get("CARC", ""),
                     "Owner": r.get("Owner", "") or "unassigned"})
    heads = ["Denial ID", "Appeal Deadline", "Days Left", "Payer", "CPT/HCPCS", "CARC", "Owner"]
    intro = (f"{n} open denial{'s have' if n != 1 else ' has'} an appeal deadline in the next 14 days"
             f" (from {_day(as_of)}).")
    if not n:
        intro = f"No appeal deadlines in the next 14 days (from {_day(as_of)})."
    text = [intro, ""]
    text += ["  ".join(f"{row[h]}" for h in heads) for row in rows]
    text += ["", "Find each one in the Denials sheet by its Denial ID.",
             "Codes and dates only: this e-mail carries no patient information."]
    table = ""
    if rows:
        th = "".join(f"<th style='text-align:left;padding:2px 8px'>{_esc(h)}</th>" for h in heads)
        trs = "".join("<tr>" + "".join(f"<td style='padding:2px 8px'>{_esc(row[h])}</td>" for h in heads) + "</tr>"
                      for row in rows)
        table = f"<table style='border-collapse:collapse'><tr>{th}</tr>{trs}</table>"
    html = (f"<html><body><div style='{_STYLE}'><p><b>{_esc(intro)}</b></p>{table}"
            f"<p>Find each one in the Denials sheet by its Denial ID.</p>"
            "<p style='color:#888;font-size:12px'>Codes and dates only: this e-mail carries no patient "
            "information.</p>"
            f"</div></body></html>")
    return build_message(subject=subject, text="\n".join(text) + "\n", html=html, sender=sender,
                         recipients=list(recipients))
