/* What snowtop's panels share for drawing: see panel.h. */
#include <math.h>
#include <ncurses.h>
#include <stdio.h>

#include "panel.h"

int state_color(enum top_state s)
{
	static const int c[TS_COUNT] = { [TS_ONLINE] = C_ONLINE, [TS_RAISED] = C_RAISED,
					 [TS_BOOTING] = C_BOOTING, [TS_OFFLINE] = C_OFFLINE,
					 [TS_DISCOVERED] = C_DISC };
	return COLOR_PAIR(c[s]) | (s == TS_RAISED ? A_BOLD : 0) | (s == TS_OFFLINE ? A_DIM : 0);
}

int level_color(double frac)
{
	return COLOR_PAIR(frac >= 0.9 ? C_BAR_HI : frac >= 0.7 ? C_BAR_MID : C_BAR_LO);
}

void fmt_dur(char *out, size_t len, double s)
{
	long v = isnan(s) ? -1 : (long)s;

	if (v < 0)
		snprintf(out, len, "-");
	else if (v < 3600)
		snprintf(out, len, "%ldm%02lds", v / 60, v % 60);
	else if (v < 86400)
		snprintf(out, len, "%ldh%02ldm", v / 3600, v / 60 % 60);
	else
		snprintf(out, len, "%ldd%02ldh", v / 86400, v / 3600 % 24);
}

void fmt_num(char *out, size_t len, double v)
{
	if (isnan(v))
		snprintf(out, len, "-");
	else if (fabs(v) >= 1e6)
		snprintf(out, len, "%.1fM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(out, len, "%.0fk", v / 1e3);
	else if (v == floor(v))
		snprintf(out, len, "%.0f", v);
	else if (fabs(v) < 0.1)
		snprintf(out, len, "%.2g", v);
	else
		snprintf(out, len, "%.2f", v);
}
