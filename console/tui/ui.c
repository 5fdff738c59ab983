/*
 * snowtop's screen: panels and meters in the manner of htop.  Nothing here
 * talks to snowd; snowtop.c feeds the model, calls ui_draw() when something
 * changed (at most every delay_ms) and ui_key() for each key.  The header,
 * the events pane and the dialogs are here; the node list and the node page
 * are ui_list.c and ui_node.c (panel.h).  All state is struct top's.
 */
#include <math.h>
#include <stdarg.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "panel.h"

const char *const top_sort_names[SORT_COUNT] = {
	[SORT_NAME] = "name", [SORT_STATE] = "state", [SORT_LOAD] = "load", [SORT_MEM] = "memory",
	[SORT_PROCS] = "procs", [SORT_UPTIME] = "uptime", [SORT_ALERTS] = "alerts",
};
const char *const top_tab_names[TAB_COUNT] = {
	[TAB_VALUES] = "Values", [TAB_DEVICES] = "Devices", [TAB_THRESHOLDS] = "Thresholds",
	[TAB_EVENTS] = "Events",
};

void top_status(struct top *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->status, sizeof(t->status), fmt, ap);
	va_end(ap);
	t->status_ms = clock_mono_ms();
	t->dirty = 1;
}

void ui_init(struct top *t)
{
	initscr();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	if (has_colors() && !t->conf.no_color) {
		start_color();
		use_default_colors();
		init_pair(C_ONLINE, COLOR_GREEN, -1);
		init_pair(C_BOOTING, COLOR_YELLOW, -1);
		init_pair(C_RAISED, COLOR_RED, -1);
		init_pair(C_OFFLINE, -1, -1);
		init_pair(C_DISC, COLOR_MAGENTA, -1);
		init_pair(C_HEAD, COLOR_BLACK, COLOR_GREEN);
		init_pair(C_BAR, COLOR_CYAN, -1);
		init_pair(C_KEY, COLOR_WHITE, COLOR_BLACK);
		init_pair(C_KEYTXT, COLOR_BLACK, COLOR_CYAN);
		init_pair(C_BAR_LO, COLOR_GREEN, -1);
		init_pair(C_BAR_MID, COLOR_YELLOW, -1);
		init_pair(C_BAR_HI, COLOR_RED, -1);
		init_pair(C_SEL, COLOR_BLACK, COLOR_CYAN);
		init_pair(C_TITLE, COLOR_CYAN, -1);
	}
}

void ui_end(void)
{
	endwin();
}

/* --- meters -------------------------------------------------------------- */

struct meter;
struct meter_class {
	const char *caption;
	/* Fill in fraction 0..1 (NAN: no data) and the text shown at the right. */
	void (*update)(const struct top *t, double *frac, char *text, size_t len);
};

static void online_update(const struct top *t, double *frac, char *text, size_t len)
{
	size_t on = 0;

	for (size_t i = 0; i < t->m.n; i++)
		on += !strcmp(t->m.nodes[i].state, "online");
	*frac = t->m.n ? (double)on / (double)t->m.n : NAN;
	snprintf(text, len, "%zu/%zu", on, t->m.n);
}

/* Mean of a per-node gauge over online nodes. */
static double mean_of(const struct top *t, size_t off, size_t *count)
{
	double sum = 0;

	*count = 0;
	for (size_t i = 0; i < t->m.n; i++) {
		const struct top_node *n = &t->m.nodes[i];
		double v = *(const double *)((const char *)n + off);
		if (strcmp(n->state, "online") || isnan(v))
			continue;
		sum += v;
		(*count)++;
	}
	return *count ? sum / (double)*count : NAN;
}

static void load_update(const struct top *t, double *frac, char *text, size_t len)
{
	size_t c;
	double l = mean_of(t, offsetof(struct top_node, load1), &c);
	double cpus = mean_of(t, offsetof(struct top_node, cpus), &c);

	*frac = isnan(l) ? NAN : l / (isnan(cpus) || cpus < 1 ? 1 : cpus);
	snprintf(text, len, isnan(l) ? "-" : "%.2f avg", l);
}

static void mem_update(const struct top *t, double *frac, char *text, size_t len)
{
	size_t c;
	double p = mean_of(t, offsetof(struct top_node, mem_pct), &c);

	*frac = isnan(p) ? NAN : p / 100.0;
	snprintf(text, len, isnan(p) ? "-" : "%.0f%% avg", p);
}

static const struct meter_class meters[] = {
	{ .caption = "Online", .update = online_update },
	{ .caption = "Load", .update = load_update },
	{ .caption = "Mem", .update = mem_update },
};

/* "Cap[|||||||       text]" in w columns, as htop's bar meter. */
static void bar_draw(int y, int x, int w, const char *caption, double frac, const char *text,
		     int invert_level)
{
	int inner, fill, tl = (int)strlen(text);

	if (w < (int)strlen(caption) + 4)
		return;
	attron(COLOR_PAIR(C_TITLE) | A_BOLD);
	mvprintw(y, x, "%s", caption);
	attroff(COLOR_PAIR(C_TITLE) | A_BOLD);
	x += (int)strlen(caption);
	inner = w - (int)strlen(caption) - 2;
	mvaddch(y, x, '[');
	fill = isnan(frac) ? 0 : (int)lround((frac > 1 ? 1 : frac < 0 ? 0 : frac) * inner);
	attron(level_color(invert_level ? 1 - frac : frac));
	for (int i = 0; i < inner; i++)
		mvaddch(y, x + 1 + i, i < fill ? '|' : ' ');
	attroff(level_color(invert_level ? 1 - frac : frac));
	if (tl <= inner)
		mvprintw(y, x + 1 + inner - tl, "%s", text);
	mvaddch(y, x + 1 + inner, ']');
}

static int header_draw(struct top *t, int y, int h)
{
	size_t counts[TS_COUNT] = { 0 };
	int w = COLS, mw;
	char text[64], clock[16];
	time_t now = time(NULL);

	(void)h;
	for (size_t i = 0; i < t->m.n; i++)
		counts[top_node_state(&t->m.nodes[i])]++;
	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	attron(A_BOLD);
	mvprintw(y, 0, "snowtop");
	attroff(A_BOLD);
	printw("  %s:%s  ", t->url.host, t->url.port);
	if (t->connected) {
		attron(COLOR_PAIR(C_ONLINE) | A_BOLD);
		printw("live");
		attroff(COLOR_PAIR(C_ONLINE) | A_BOLD);
	} else {
		attron(COLOR_PAIR(C_RAISED) | A_BOLD);
		printw("reconnecting: %.60s", t->conn_why);
		attroff(COLOR_PAIR(C_RAISED) | A_BOLD);
	}
	printw("  role %s", t->role[0] ? t->role : "?");
	mvprintw(y, w - 9 > 0 ? w - 9 : 0, "%s", clock);
	mw = (w - 2) / 3;
	for (size_t i = 0; i < sizeof(meters) / sizeof(meters[0]); i++) {
		double frac;
		meters[i].update(t, &frac, text, sizeof(text));
		bar_draw(y + 1, (int)i * (mw + 1), mw, meters[i].caption, frac, text, i == 0);
	}
	move(y + 2, 0);
	printw("Nodes: %zu  ", t->m.n);
	attron(state_color(TS_ONLINE));
	printw("online %zu  ", counts[TS_ONLINE] + counts[TS_RAISED]);
	attroff(state_color(TS_ONLINE));
	attron(state_color(TS_RAISED));
	printw("raised %zu  ", counts[TS_RAISED]);
	attroff(state_color(TS_RAISED));
	attron(state_color(TS_BOOTING));
	printw("booting %zu  ", counts[TS_BOOTING]);
	attroff(state_color(TS_BOOTING));
	attron(state_color(TS_OFFLINE));
	printw("offline %zu", counts[TS_OFFLINE]);
	attroff(state_color(TS_OFFLINE));
	printw("   sort: %s%s", top_sort_names[t->sort], t->sort_desc ? " (desc)" : "");
	if (t->filter[0] || t->state_filter >= 0)
		printw("  filter: %s%s%s", t->filter, t->filter[0] && t->state_filter >= 0 ? " " : "",
		       t->state_filter >= 0 ? top_state_name((enum top_state)t->state_filter) : "");
	return 3;
}

static int events_draw(struct top *t, int y, int h)
{
	attron(COLOR_PAIR(C_HEAD));
	mvprintw(y, 0, "%-*s", COLS, " EVENTS (live)");
	attroff(COLOR_PAIR(C_HEAD));
	for (int i = 0; i < h - 1; i++) {
		const struct top_event *e = model_event_at(&t->m, (size_t)i);
		char ts[16];
		time_t tt;
		if (!e)
			break;
		tt = (time_t)e->time;
		strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&tt));
		if (strstr(e->type, "raise"))
			attron(COLOR_PAIR(C_RAISED));
		mvprintw(y + 1 + i, 0, "%s %-14.14s %-18.18s %-.*s", ts, e->node, e->type,
			 COLS > 52 ? COLS - 52 : 0, e->text);
		if (strstr(e->type, "raise"))
			attroff(COLOR_PAIR(C_RAISED));
	}
	return h;
}

static const struct panel_class header_panel = { .name = "header", .draw = header_draw };
static const struct panel_class events_panel = { .name = "events", .draw = events_draw };

/* The panel that has the keys (when no dialog is open). */
static const struct panel_class *ui_focus(const struct top *t)
{
	return t->view == VIEW_LIST ? &list_panel : &node_panel;
}

/* --- footer, dialogs, help ------------------------------------------------ */

static void footer_draw(struct top *t)
{
	const char *const(*keys)[2] = ui_focus(t)->hints;
	int y = LINES - 1;

	move(y - 1, 0);
	clrtoeol();
	if (t->status[0])
		mvprintw(y - 1, 0, "%.*s", COLS, t->status);
	move(y, 0);
	clrtoeol();
	for (int i = 0; i < 8; i++) {
		attron(COLOR_PAIR(C_KEY) | A_BOLD);
		printw("%s", keys[i][0]);
		attroff(COLOR_PAIR(C_KEY) | A_BOLD);
		attron(COLOR_PAIR(C_KEYTXT));
		printw("%-7s", keys[i][1]);
		attroff(COLOR_PAIR(C_KEYTXT));
	}
}

static void box_at(int h, int w, int *y, int *x)
{
	*y = (LINES - h) / 2;
	*x = (COLS - w) / 2;
	if (*y < 0)
		*y = 0;
	if (*x < 0)
		*x = 0;
	for (int r = 0; r < h; r++)
		mvprintw(*y + r, *x, "%*s", w, "");
	for (int c = 0; c < w; c++) {
		mvaddch(*y, *x + c, ACS_HLINE);
		mvaddch(*y + h - 1, *x + c, ACS_HLINE);
	}
	for (int r = 0; r < h; r++) {
		mvaddch(*y + r, *x, ACS_VLINE);
		mvaddch(*y + r, *x + w - 1, ACS_VLINE);
	}
	mvaddch(*y, *x, ACS_ULCORNER);
	mvaddch(*y, *x + w - 1, ACS_URCORNER);
	mvaddch(*y + h - 1, *x, ACS_LLCORNER);
	mvaddch(*y + h - 1, *x + w - 1, ACS_LRCORNER);
}

static const char *const help_text[] = {
	"snowtop: the Snow cluster from snowd's API and live stream",
	"",
	"Node list                              Node page",
	"  Up/Down PgUp/PgDn Home/End  move       Tab, 1-4, Left/Right  tabs",
	"  Enter        open the node             Up/Down      pick a row",
	"  F3 /         search by name/ip/image   Enter        device operations (Devices)",
	"  F4 f         cycle state filter        t            set a threshold",
	"  F6 > <       sort by next/previous     c Del        clear the threshold (Thresholds)",
	"  I            invert the sort           w            reset watermarks (Values)",
	"  Space        tag a node; U untag all   F9 a         reboot / power / reload config",
	"  F9 a         actions on tagged/cursor  Esc q Bksp   back to the list",
	"  F5 e         events pane on/off",
	"  r            reconnect now             F10 q        quit",
	"",
	"Every action asks first and says what will happen; its progress shows at the bottom.",
	"Colours: green online, yellow booting, red raised threshold, dim offline.",
	"Press any key.",
};

static void modal_draw(struct top *t)
{
	struct top_modal_box *m = &t->modal;
	int y, x, w, h;

	switch (m->kind) {
	case MODAL_NONE:
		return;
	case MODAL_HELP:
		h = (int)(sizeof(help_text) / sizeof(help_text[0])) + 2;
		w = 90 < COLS ? 90 : COLS;
		box_at(h, w, &y, &x);
		for (int i = 0; i < h - 2; i++)
			mvprintw(y + 1 + i, x + 2, "%.*s", w - 4, help_text[i]);
		return;
	case MODAL_MENU:
		h = m->nitems + 4;
		w = 50 < COLS ? 50 : COLS;
		box_at(h, w, &y, &x);
		attron(A_BOLD);
		mvprintw(y + 1, x + 2, "%.*s", w - 4, m->title);
		attroff(A_BOLD);
		for (int i = 0; i < m->nitems; i++) {
			if (i == m->sel)
				attron(COLOR_PAIR(C_SEL));
			mvprintw(y + 2 + i, x + 2, "%-*.*s", w - 4, w - 4, m->items[i]);
			if (i == m->sel)
				attroff(COLOR_PAIR(C_SEL));
		}
		mvprintw(y + h - 2 + 1 - 1, x + 2, "Enter: choose   Esc: cancel");
		return;
	case MODAL_CONFIRM:
	case MODAL_PROMPT:
		h = 8;
		w = 84 < COLS ? 84 : COLS;
		box_at(h, w, &y, &x);
		attron(A_BOLD);
		mvprintw(y + 1, x + 2, "%.*s", w - 4, m->title);
		attroff(A_BOLD);
		for (int i = 0; i < 3; i++)
			mvprintw(y + 2 + i, x + 2, "%.*s", w - 4, m->text[i]);
		if (m->kind == MODAL_PROMPT) {
			mvprintw(y + 5, x + 2, "> %.*s_", w - 7, m->input);
			mvprintw(y + 6, x + 2, "Enter: go   Esc: cancel");
		} else {
			attron(A_BOLD);
			mvprintw(y + 6, x + 2, "Proceed? [y] yes   [n/Esc] no");
			attroff(A_BOLD);
		}
		return;
	}
}

void ui_draw(struct top *t)
{
	int y = 0, h, ev = (int)t->conf.events_lines;
	int body;

	erase();
	if (LINES < 10 || COLS < 40) {
		mvprintw(0, 0, "snowtop: the terminal is too small (%dx%d)", COLS, LINES);
		refresh();
		return;
	}
	y += header_panel.draw(t, y, 3);
	y++;
	body = LINES - y - 2;
	if (ev > 0 && body - ev < 6)
		ev = body - 6 > 0 ? body - 6 : 0;
	h = body - (ev > 0 ? ev + 1 : 0);
	ui_focus(t)->draw(t, y, h);
	if (ev > 0)
		events_panel.draw(t, y + h, ev + 1);
	footer_draw(t);
	modal_draw(t);
	refresh();
	t->draws++;
}

/*
 * The dialog's keys (a menu, a confirmation, a prompt, the help): it takes
 * every key while it is open, and runs what was chosen through the box's fn.
 */
static enum ui_verb dialog_key(struct top *t, int ch)
{
	struct top_modal_box *m = &t->modal;
	top_action_fn fn = m->fn;
	int arg = m->arg;
	char input[sizeof(m->input)];

	switch (m->kind) {
	case MODAL_NONE:
		return UI_PASS;
	case MODAL_HELP:
		m->kind = MODAL_NONE;
		return UI_DONE;
	case MODAL_MENU:
		if (ch == KEY_UP && m->sel > 0)
			m->sel--;
		else if (ch == KEY_DOWN && m->sel < m->nitems - 1)
			m->sel++;
		else if (ch == 27 || ch == 'q')
			m->kind = MODAL_NONE;
		else if (ch > ' ' && ch < 127 && ch != 'q') {
			/* A letter moves to the next item that starts with it, as in htop's menus. */
			for (int i = 1; i <= m->nitems; i++) {
				int j = (m->sel + i) % m->nitems;
				if (m->items[j][0] == ch) {
					m->sel = j;
					break;
				}
			}
		} else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
			m->kind = MODAL_NONE;
			fn(t, m->sel, NULL);
		}
		return UI_DONE;
	case MODAL_CONFIRM:
		if (ch == 'y' || ch == 'Y') {
			m->kind = MODAL_NONE;
			fn(t, arg, NULL);
		} else if (ch == 'n' || ch == 'N' || ch == 27 || ch == 'q') {
			m->kind = MODAL_NONE;
			top_status(t, "cancelled");
		}
		return UI_DONE;
	case MODAL_PROMPT:
		if (ch == 27) {
			m->kind = MODAL_NONE;
		} else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
			m->kind = MODAL_NONE;
			memcpy(input, m->input, sizeof(input));
			fn(t, 0, input);
		} else if (ch == 21) { /* ^U: start again, as a shell's line editor */
			m->input_len = 0;
			m->input[0] = 0;
		} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && m->input_len) {
			m->input[--m->input_len] = 0;
		} else if (ch >= 32 && ch < 127 && m->input_len + 1 < sizeof(m->input)) {
			m->input[m->input_len++] = (char)ch;
			m->input[m->input_len] = 0;
		}
		return UI_DONE;
	}
	return UI_PASS;
}

enum ui_verb ui_key(struct top *t, int ch)
{
	enum ui_verb v;

	t->dirty = 1;
	if (ch == KEY_RESIZE)
		return UI_DONE;
	v = dialog_key(t, ch);
	if (v != UI_PASS)
		return v;
	if (ch == KEY_F(1) || ch == '?' || ch == 'h') {
		memset(&t->modal, 0, sizeof(t->modal));
		t->modal.kind = MODAL_HELP;
		return UI_DONE;
	}
	if (ch == KEY_F(10) || (ch == 'q' && t->view == VIEW_LIST))
		return UI_QUIT;
	if (ch == KEY_F(5) || ch == 'e') {
		t->conf.events_lines = t->conf.events_lines ? 0 : 6;
		return UI_DONE;
	}
	if (ch == 'r')
		return UI_RECONNECT;
	return ui_focus(t)->on_key(t, ch);
}
