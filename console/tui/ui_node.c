/*
 * snowtop's node page panel: one node's header and its tabs (values,
 * devices, thresholds, events), the row cursor, and the page's keys.
 */
#include <math.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "panel.h"

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Rows of the current tab, as text, for drawing and for selection. */
static int node_tab_rows(struct top *t, struct top_node *n, int y, int h)
{
	int row = 0, w = COLS;
	json_t *e, *v;
	size_t i;
	const char *k;

#define LINE(sel_ok, ...)                                                                         \
	do {                                                                                      \
		int yy_ = y + row - t->item_scroll;                                               \
		if (row >= t->item_scroll && yy_ < y + h) {                                       \
			move(yy_, 0);                                                             \
			if ((sel_ok) && row == t->item_sel)                                       \
				attron(COLOR_PAIR(C_SEL));                                        \
			printw(__VA_ARGS__);                                                      \
			if ((sel_ok) && row == t->item_sel) {                                     \
				mvchgat(yy_, 0, -1, A_NORMAL, C_SEL, NULL);                       \
				attroff(COLOR_PAIR(C_SEL));                                       \
			}                                                                         \
		}                                                                                 \
		row++;                                                                            \
	} while (0)

	switch (t->tab) {
	case TAB_VALUES: {
		json_t *s;
		attron(A_BOLD);
		mvprintw(y - 1, 0, "%-40s %16s %-8s %-9s %s", "VALUE", "NOW", "UNIT", "KIND", "WATERMARKS");
		attroff(A_BOLD);
		json_array_foreach(n->schema, i, s) {
			const char *name = jstr(s, "name");
			char now[24] = "-", wm[48] = "";
			json_t *x = json_object_get(n->values, name), *m = json_object_get(n->watermarks, name);
			if (json_is_number(x))
				fmt_num(now, sizeof(now), json_number_value(x));
			if (json_array_size(m) == 2) {
				char lo[16], hi[16];
				fmt_num(lo, sizeof(lo), json_number_value(json_array_get(m, 0)));
				fmt_num(hi, sizeof(hi), json_number_value(json_array_get(m, 1)));
				snprintf(wm, sizeof(wm), "%s .. %s", lo, hi);
			}
			LINE(1, "%-40.40s %16s %-8.8s %-9.9s %-.*s", name, now, jstr(s, "unit"), jstr(s, "kind"),
			     w > 78 ? w - 78 : 0, wm);
		}
		if (!json_array_size(n->schema)) {
			json_object_foreach(n->values, k, v) {
				char now[24];
				fmt_num(now, sizeof(now), json_number_value(v));
				LINE(1, "%-40.40s %16s", k, now);
			}
		}
		break;
	}
	case TAB_DEVICES:
		attron(A_BOLD);
		mvprintw(y - 1, 0, "%-22s %-8s %-10s %-9s %-28s %s", "DEVICE", "CLASS", "AVAIL", "RUN",
			 "OPERATIONS (Enter)", "LAST DIAG/AUDIT");
		attroff(A_BOLD);
		json_array_foreach(n->devices, i, e) {
			char ops[64] = "", last[64] = "";
			json_t *op;
			size_t j;
			json_array_foreach(json_object_get(e, "ops"), j, op) {
				size_t l = strlen(ops);
				snprintf(ops + l, sizeof(ops) - l, "%s%s", l ? " " : "", json_string_value(op));
			}
			if (json_object_get(e, "diag"))
				snprintf(last, sizeof(last), "diag %s", jstr(json_object_get(e, "diag"), "result"));
			if (json_object_get(e, "audit")) {
				size_t l = strlen(last);
				snprintf(last + l, sizeof(last) - l, "%saudit %s", l ? ", " : "",
					 jstr(json_object_get(e, "audit"), "result"));
			}
			LINE(1, "%-22.22s %-8.8s %-10.10s %-9.9s %-28.28s %s", jstr(e, "path"), jstr(e, "class"),
			     jstr(e, "avail"), jstr(e, "run"), ops, last);
		}
		if (!json_array_size(n->devices))
			LINE(0, "The node reports no devices.");
		break;
	case TAB_THRESHOLDS:
		attron(A_BOLD);
		mvprintw(y - 1, 0, "%-32s %-5s %12s %12s %7s %12s  %s", "VALUE", "KIND", "RISE", "CLEAR",
			 "SAMPLES", "NOW", "STATE");
		attroff(A_BOLD);
		json_array_foreach(n->thresholds, i, e) {
			char rise[16], clr[16], now[16];
			const char *st = jstr(e, "state");
			fmt_num(rise, sizeof(rise), json_number_value(json_object_get(e, "rise")));
			fmt_num(clr, sizeof(clr), json_number_value(json_object_get(e, "clear")));
			fmt_num(now, sizeof(now), json_number_value(json_object_get(n->values, jstr(e, "value"))));
			LINE(1, "%-32.32s %-5.5s %12s %12s %7lld %12s  %s", jstr(e, "value"), jstr(e, "kind"),
			     rise, clr, (long long)json_integer_value(json_object_get(e, "samples")), now, st);
		}
		if (!json_array_size(n->thresholds))
			LINE(0, "No threshold is set.  't' sets one.");
		break;
	case TAB_EVENTS:
		attron(A_BOLD);
		mvprintw(y - 1, 0, "%-19s %-18s %s", "TIME", "TYPE", "ATTRIBUTES");
		attroff(A_BOLD);
		json_array_foreach(t->node_events, i, e) {
			char ts[24], *a = json_dumps(json_object_get(e, "attrs"), JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
			time_t tt = (time_t)json_integer_value(json_object_get(e, "time"));
			strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&tt));
			LINE(1, "%-19s %-18.18s %-.*s", ts, jstr(e, "type"), w > 40 ? w - 40 : 0, a ? a : "");
			free(a);
		}
		if (!json_array_size(t->node_events))
			LINE(0, "No events.");
		break;
	case TAB_COUNT:
		break;
	}
#undef LINE
	return row;
}

static int node_draw(struct top *t, int y, int h)
{
	struct top_node *n = model_find(&t->m, t->node);
	enum top_state s;
	char up[32], buf[64];
	int x = 0, rows;

	if (!n) {
		mvprintw(y, 0, "No node '%s' (removed?).  Esc goes back.", t->node);
		return h;
	}
	s = top_node_state(n);
	attron(A_BOLD);
	mvprintw(y, 0, "%s", n->name);
	attroff(A_BOLD);
	printw("  ");
	attron(state_color(s));
	if (s == TS_BOOTING)
		printw("booting: %s (%lds)", n->stage, (long)(time(NULL) - n->stage_time));
	else
		printw("%s", s == TS_RAISED ? "online, thresholds raised" : n->state);
	attroff(state_color(s));
	fmt_dur(up, sizeof(up), n->uptime);
	printw("   host %s  ip %s  mac %s  image %s", n->hostname, n->ip, n->mac, n->image);
	move(y + 1, 0);
	if (s == TS_ONLINE || s == TS_RAISED) {
		fmt_num(buf, sizeof(buf), n->load1);
		printw("up %s  load %s  mem %.0f%%  procs %.0f", up, buf, n->mem_pct, n->procs);
		if (!isnan(n->temp))
			printw("  cpu temp %.1f C", n->temp);
	} else if (n->last_seen) {
		printw("last report %lds ago", (long)(time(NULL) - n->last_seen));
	}
	if (n->crash_time) {
		/* The last kernel crash (docs/crash.md), cut to the line. */
		int room = COLS - getcurx(stdscr) - 1;
		char c[200];
		fmt_dur(up, sizeof(up), (double)(time(NULL) - n->crash_time));
		snprintf(c, sizeof(c), "   last crash %s ago: %s", up,
			 n->crash_panic[0] ? n->crash_panic : "(no panic text)");
		if (room > 0) {
			attron(COLOR_PAIR(C_OFFLINE));
			printw("%.*s", room, c);
			attroff(COLOR_PAIR(C_OFFLINE));
		}
	}
	move(y + 2, 0);
	for (int i = 0; i < TAB_COUNT; i++) {
		if (i == (int)t->tab)
			attron(COLOR_PAIR(C_SEL) | A_BOLD);
		mvprintw(y + 2, x, " %d %s ", i + 1, top_tab_names[i]);
		if (i == (int)t->tab)
			attroff(COLOR_PAIR(C_SEL) | A_BOLD);
		x += (int)strlen(top_tab_names[i]) + 4;
	}
	/* Clamp the selection to what the tab has, then draw. */
	rows = node_tab_rows(t, n, y + 4, 0);
	if (t->item_sel >= rows)
		t->item_sel = rows ? rows - 1 : 0;
	if (t->item_sel < t->item_scroll)
		t->item_scroll = t->item_sel;
	if (t->item_sel >= t->item_scroll + (h - 4))
		t->item_scroll = t->item_sel - (h - 4) + 1;
	node_tab_rows(t, n, y + 4, h - 4);
	return h;
}

static enum ui_verb node_key(struct top *t, int ch)
{
	switch (ch) {
	case 27: case 'q': case KEY_BACKSPACE: case 127: case KEY_LEFT:
		if (ch == KEY_LEFT && t->tab > 0) {
			t->tab--;
			t->item_sel = t->item_scroll = 0;
			return UI_DONE;
		}
		t->view = VIEW_LIST;
		return UI_BACK;
	case '\t': case KEY_RIGHT:
		t->tab = (t->tab + 1) % TAB_COUNT;
		t->item_sel = t->item_scroll = 0;
		return UI_DONE;
	case KEY_BTAB:
		t->tab = (t->tab + TAB_COUNT - 1) % TAB_COUNT;
		t->item_sel = t->item_scroll = 0;
		return UI_DONE;
	case '1': case '2': case '3': case '4':
		t->tab = (enum top_tab)(ch - '1');
		t->item_sel = t->item_scroll = 0;
		return UI_DONE;
	case KEY_UP: case 'k': if (t->item_sel > 0) t->item_sel--; return UI_DONE;
	case KEY_DOWN: case 'j': t->item_sel++; return UI_DONE;
	case KEY_PPAGE: t->item_sel -= 10; if (t->item_sel < 0) t->item_sel = 0; return UI_DONE;
	case KEY_NPAGE: t->item_sel += 10; return UI_DONE;
	case '\r': case '\n': case KEY_ENTER: case 'o':
		return t->tab == TAB_DEVICES ? UI_DEVICE_OPS : UI_DONE;
	case 't': return UI_THRESHOLD_SET;
	case 'c': case KEY_DC: return UI_THRESHOLD_CLEAR;
	case 'w': return UI_WM_RESET;
	case KEY_F(9): case 'a': return UI_ACTIONS;
	}
	return UI_PASS;
}

static const char *const node_hints[][2] = {
	{ "F1", "Help" }, { "Tab", "Next" }, { "Enter", "DevOp" }, { "t", "Thresh" },
	{ "c", "Clear" }, { "w", "ResetWM" }, { "F9", "Action" }, { "Esc", "Back" },
};

const struct panel_class node_panel = {
	.name = "node", .draw = node_draw, .on_key = node_key, .hints = node_hints,
};
