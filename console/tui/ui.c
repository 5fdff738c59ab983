/*
 * snowtop's screen: panels and meters in the manner of htop.  Nothing here
 * talks to snowd; snowtop.c feeds the model and calls ui_draw() when
 * something changed, at most every delay_ms.
 */
#include <math.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "top.h"

enum { C_ONLINE = 1, C_BOOTING, C_RAISED, C_OFFLINE, C_DISC, C_HEAD, C_BAR, C_KEY, C_KEYTXT, C_BAR_LO,
       C_BAR_MID, C_BAR_HI, C_SEL, C_TITLE };

const char *const top_sort_names[SORT_COUNT] = {
	[SORT_NAME] = "name", [SORT_STATE] = "state", [SORT_LOAD] = "load", [SORT_MEM] = "memory",
	[SORT_PROCS] = "procs", [SORT_UPTIME] = "uptime", [SORT_ALERTS] = "alerts",
};
const char *const top_tab_names[TAB_COUNT] = {
	[TAB_VALUES] = "Values", [TAB_DEVICES] = "Devices", [TAB_THRESHOLDS] = "Thresholds",
	[TAB_EVENTS] = "Events",
};

static int state_color(enum top_state s)
{
	static const int c[TS_COUNT] = { [TS_ONLINE] = C_ONLINE, [TS_RAISED] = C_RAISED,
					 [TS_BOOTING] = C_BOOTING, [TS_OFFLINE] = C_OFFLINE,
					 [TS_DISCOVERED] = C_DISC };
	return COLOR_PAIR(c[s]) | (s == TS_RAISED ? A_BOLD : 0) | (s == TS_OFFLINE ? A_DIM : 0);
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

static int level_color(double frac)
{
	return COLOR_PAIR(frac >= 0.9 ? C_BAR_HI : frac >= 0.7 ? C_BAR_MID : C_BAR_LO);
}

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

/* --- panels -------------------------------------------------------------- */

struct panel_class {
	const char *name;
	/* Draw into rows [y, y + h).  @ret rows used. */
	int (*draw)(struct top *t, int y, int h);
};

static void fmt_dur(char *out, size_t len, double s)
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

static void fmt_num(char *out, size_t len, double v)
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

static int cmp_dbl(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : -1;
	if (isnan(b))
		return 1;
	return a < b ? -1 : a > b;
}

static struct top *sort_ctx; /* qsort has no context argument */

static int node_cmp(const void *pa, const void *pb)
{
	const struct top *t = sort_ctx;
	const struct top_node *a = &t->m.nodes[*(const size_t *)pa], *b = &t->m.nodes[*(const size_t *)pb];
	int c = 0;

	switch (t->sort) {
	case SORT_NAME:
		break;
	case SORT_STATE:
		c = (int)top_node_state(a) - (int)top_node_state(b);
		break;
	case SORT_LOAD:
		c = cmp_dbl(a->load1, b->load1);
		break;
	case SORT_MEM:
		c = cmp_dbl(a->mem_pct, b->mem_pct);
		break;
	case SORT_PROCS:
		c = cmp_dbl(a->procs, b->procs);
		break;
	case SORT_UPTIME:
		c = cmp_dbl(a->uptime, b->uptime);
		break;
	case SORT_ALERTS:
		c = a->raised - b->raised;
		break;
	case SORT_COUNT:
		break;
	}
	if (!c)
		c = strcmp(a->name, b->name);
	return t->sort_desc ? -c : c;
}

static int node_matches(const struct top *t, const struct top_node *n)
{
	enum top_state s = top_node_state(n);

	if (t->state_filter >= 0 && (int)s != t->state_filter &&
	    !(t->state_filter == TS_ONLINE && s == TS_RAISED))
		return 0;
	if (!t->filter[0])
		return 1;
	return strcasestr(n->name, t->filter) || strcasestr(n->hostname, t->filter) ||
	       strstr(n->ip, t->filter) || strcasestr(n->image, t->filter);
}

void ui_reindex(struct top *t)
{
	if (t->idx_cap < t->m.n) {
		size_t *p = realloc(t->idx, (t->m.n + 1) * sizeof(*p));
		if (!p)
			return;
		t->idx = p;
		t->idx_cap = t->m.n + 1;
	}
	t->nidx = 0;
	for (size_t i = 0; i < t->m.n; i++)
		if (node_matches(t, &t->m.nodes[i]))
			t->idx[t->nidx++] = i;
	sort_ctx = t;
	qsort(t->idx, t->nidx, sizeof(*t->idx), node_cmp);
	/* The cursor follows its node, as htop's does, unless it is gone. */
	if (t->sel_name[0]) {
		for (size_t i = 0; i < t->nidx; i++) {
			if (!strcmp(t->m.nodes[t->idx[i]].name, t->sel_name)) {
				t->sel = (int)i;
				break;
			}
		}
	}
	if (t->sel >= (int)t->nidx)
		t->sel = t->nidx ? (int)t->nidx - 1 : 0;
}

struct top_node *ui_selected(struct top *t)
{
	return t->nidx && t->sel < (int)t->nidx ? &t->m.nodes[t->idx[t->sel]] : NULL;
}

static int list_height;

int ui_list_rows(void)
{
	return list_height > 1 ? list_height : 1;
}

/* "|||||     " of width w for frac, coloured by level. */
static void mini_bar(int y, int x, int w, double frac, const char *text)
{
	int fill = isnan(frac) ? 0 : (int)lround((frac > 1 ? 1 : frac < 0 ? 0 : frac) * w);
	int tl = (int)strlen(text);

	attron(level_color(frac));
	for (int i = 0; i < w; i++)
		mvaddch(y, x + i, i < fill ? '|' : ' ');
	attroff(level_color(frac));
	if (tl < w)
		mvprintw(y, x + w - tl, "%s", text);
}

static int list_draw(struct top *t, int y, int h)
{
	int w = COLS;

	list_height = h - 1;
	ui_reindex(t);
	if (t->sel < t->scroll)
		t->scroll = t->sel;
	if (t->sel >= t->scroll + list_height)
		t->scroll = t->sel - list_height + 1;
	if (t->scroll < 0)
		t->scroll = 0;
	attron(COLOR_PAIR(C_HEAD));
	mvprintw(y, 0, "%-*s", w, "  NODE             STATE            LOAD        MEM%        PROCS  UPTIME    ALERTS  ADDRESS");
	attroff(COLOR_PAIR(C_HEAD));
	for (int r = 0; r < list_height; r++) {
		int i = t->scroll + r, yy = y + 1 + r;
		const struct top_node *n;
		enum top_state s;
		char st[40], b[24], up[32];
		int online;

		move(yy, 0);
		clrtoeol();
		if (i >= (int)t->nidx)
			continue;
		n = &t->m.nodes[t->idx[i]];
		s = top_node_state(n);
		online = s == TS_ONLINE || s == TS_RAISED;
		if (i == t->sel)
			attron(COLOR_PAIR(C_SEL));
		mvprintw(yy, 0, "%c %-16.16s ", n->tagged ? '*' : ' ', n->name);
		if (i != t->sel)
			attron(state_color(s));
		if (s == TS_BOOTING)
			snprintf(st, sizeof(st), "booting:%s", n->stage);
		else
			snprintf(st, sizeof(st), "%s", s == TS_RAISED ? "online,raised" : n->state);
		printw("%-16.16s ", st);
		if (i != t->sel)
			attroff(state_color(s));
		if (online) {
			fmt_num(b, sizeof(b), n->load1);
			mini_bar(yy, 35, 10, n->load1 / (isnan(n->cpus) || n->cpus < 1 ? 1 : n->cpus), b);
			snprintf(b, sizeof(b), isnan(n->mem_pct) ? "-" : "%.0f%%", n->mem_pct);
			mini_bar(yy, 47, 10, n->mem_pct / 100, b);
			fmt_num(b, sizeof(b), n->procs);
			fmt_dur(up, sizeof(up), n->uptime);
			mvprintw(yy, 59, "%7s  %-8s  ", b, up);
		} else {
			mvprintw(yy, 35, "%-42s", "");
		}
		if (n->raised) {
			if (i != t->sel)
				attron(state_color(TS_RAISED));
			mvprintw(yy, 78, "%-2d", n->raised);
			if (i != t->sel)
				attroff(state_color(TS_RAISED));
		}
		mvprintw(yy, 86, "%-.*s", w > 86 ? w - 86 : 0, n->ip);
		if (i == t->sel) {
			mvchgat(yy, 0, -1, A_NORMAL, C_SEL, NULL);
			attroff(COLOR_PAIR(C_SEL));
		}
	}
	return h;
}

/* --- the node page -------------------------------------------------------- */

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
static const struct panel_class list_panel = { .name = "nodes", .draw = list_draw };
static const struct panel_class node_panel = { .name = "node", .draw = node_draw };
static const struct panel_class events_panel = { .name = "events", .draw = events_draw };

/* --- footer, dialogs, help ------------------------------------------------ */

static void footer_draw(struct top *t)
{
	static const char *const list_keys[][2] = {
		{ "F1", "Help" }, { "F3", "Search" }, { "F4", "State" }, { "F5", "Events" },
		{ "F6", "SortBy" }, { "Spc", "Tag" }, { "F9", "Action" }, { "F10", "Quit" },
	};
	static const char *const node_keys[][2] = {
		{ "F1", "Help" }, { "Tab", "Next" }, { "Enter", "DevOp" }, { "t", "Thresh" },
		{ "c", "Clear" }, { "w", "ResetWM" }, { "F9", "Action" }, { "Esc", "Back" },
	};
	const char *const(*keys)[2] = t->view == VIEW_LIST ? list_keys : node_keys;
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
	if (t->view == VIEW_LIST)
		list_panel.draw(t, y, h);
	else
		node_panel.draw(t, y, h);
	if (ev > 0)
		events_panel.draw(t, y + h, ev + 1);
	footer_draw(t);
	modal_draw(t);
	refresh();
	t->draws++;
}
