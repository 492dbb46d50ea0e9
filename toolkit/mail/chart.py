"""The digest's trend chart as PNG bytes, drawn with matplotlib.

matplotlib is imported here, inside the function, and only the monthly digest job calls it: a
Validate click or any other command never pays its import time.  The Agg backend needs no
display.  The image is drawn at twice the size the e-mail shows it (560 × 240 CSS pixels), so
it stays crisp on high-DPI screens.
"""

from __future__ import annotations

import io

DISPLAY_WIDTH, DISPLAY_HEIGHT = 560, 240  # CSS pixels in the e-mail
SCALE = 2  # pixels per CSS pixel in the PNG
BAR, HIGHLIGHT, TARGET, INK = "#9dbbdf", "#1f4e79", "#c00000", "#333333"


def trend_chart(labels: list[str], values: list[float | None], *, percent: bool = False,
                target: float | None = None, title: str = "", y_label: str = "") -> bytes:
    """Bars per month (the last one, the digest's month, highlighted), a y-axis with gridlines,
    the value above each bar, and the target as a dashed line when given."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    dpi = 100 * SCALE
    fig = Figure(figsize=(DISPLAY_WIDTH / 100, DISPLAY_HEIGHT / 100), dpi=dpi)
    ax = fig.add_subplot()
    heights = [v or 0 for v in values]
    colors = [BAR] * len(values)
    if colors:
        colors[-1] = HIGHLIGHT
    bars = ax.bar(range(len(values)), heights, color=colors, width=0.7, zorder=2)
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    fmt = (lambda v, _pos=None: f"{v:.0%}") if percent else (lambda v, _pos=None: f"{v:,.0f}")
    ax.yaxis.set_major_formatter(FuncFormatter(fmt))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 5, 10], integer=not percent))
    top = max([h for h in heights] + [target or 0] + [0.05 if percent else 1])
    ax.set_ylim(0, top * 1.22)
    for bar, value in zip(bars, values):
        if value is not None:
            ax.annotate(f"{value:.1%}" if percent else f"{value:,.0f}", (bar.get_x() + bar.get_width() / 2, value),
                        xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=6.5, color=INK,
                        zorder=4, bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none", "alpha": 0.8})
    if target is not None:
        ax.axhline(target, color=TARGET, linestyle="--", linewidth=1.2, zorder=3,
                   label=f"Target {fmt(target)}")
        ax.legend(loc="upper right", fontsize=7, frameon=False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9, color=INK, loc="left")
    if y_label:
        ax.set_ylabel(y_label, fontsize=7, color=INK)
    fig.tight_layout(pad=0.6)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()
