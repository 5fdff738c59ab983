/*
 * snowtop's node list panel: the visible nodes (filter, state filter,
 * sort), the cursor that follows its node, tags, and the list's keys.
 */
#include <math.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"

static int cmp_dbl(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : -1;
	if (isnan(b))
		return 1;
	return a < b ? -1 : a > b;
}

static int node_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct top *t = ctx;
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
	qsort_r(t->idx, t->nidx, sizeof(*t->idx), node_cmp, t);
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

	t->list_rows = h - 1;
	ui_reindex(t);
	if (t->sel < t->scroll)
		t->scroll = t->sel;
	if (t->sel >= t->scroll + t->list_rows)
		t->scroll = t->sel - t->list_rows + 1;
	if (t->scroll < 0)
		t->scroll = 0;
	attron(COLOR_PAIR(C_HEAD));
	mvprintw(y, 0, "%-*s", w, "  NODE             STATE            LOAD        MEM%        PROCS  UPTIME    ALERTS  ADDRESS");
	attroff(COLOR_PAIR(C_HEAD));
	for (int r = 0; r < t->list_rows; r++) {
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

static void search_entered(struct top *t, int item, const char *input)
{
	(void)item;
	snprintf(t->filter, sizeof(t->filter), "%s", input);
	t->sel = 0;
	t->sel_name[0] = 0;
	/* Keys typed ahead (the Enter after the search's) are read before the next draw. */
	ui_reindex(t);
}

static enum ui_verb list_key(struct top *t, int ch)
{
	struct top_node *n = ui_selected(t);
	int page = t->list_rows > 1 ? t->list_rows : 1, reindex = 1;

	switch (ch) {
	case KEY_UP: case 'k': t->sel--; reindex = 0; break;
	case KEY_DOWN: case 'j': t->sel++; reindex = 0; break;
	case KEY_PPAGE: t->sel -= page; reindex = 0; break;
	case KEY_NPAGE: t->sel += page; reindex = 0; break;
	case KEY_HOME: t->sel = 0; reindex = 0; break;
	case KEY_END: t->sel = (int)t->nidx - 1; reindex = 0; break;
	case '\r': case '\n': case KEY_ENTER:
		return n ? UI_OPEN_NODE : UI_DONE;
	case ' ':
		if (n) {
			n->tagged = !n->tagged;
			t->sel++;
		}
		reindex = 0;
		break;
	case 'U':
		for (size_t i = 0; i < t->m.n; i++)
			t->m.nodes[i].tagged = 0;
		break;
	case KEY_F(3): case '/': {
		struct top_modal_box *m = &t->modal;
		memset(m, 0, sizeof(*m));
		m->kind = MODAL_PROMPT;
		m->fn = search_entered;
		snprintf(m->title, sizeof(m->title), "Search nodes");
		snprintf(m->text[0], sizeof(m->text[0]), "Part of a name, hostname, address or image (empty: all)");
		m->input_len = (size_t)snprintf(m->input, sizeof(m->input), "%s", t->filter);
		return UI_DONE;
	}
	case KEY_F(4): case 'f':
		t->state_filter = t->state_filter + 1 >= TS_DISCOVERED ? -1 : t->state_filter + 1;
		t->sel = 0;
		t->sel_name[0] = 0;
		break;
	case KEY_F(6): case '>': case '.': t->sort = (t->sort + 1) % SORT_COUNT; break;
	case '<': case ',': t->sort = (t->sort + SORT_COUNT - 1) % SORT_COUNT; break;
	case 'I': t->sort_desc = !t->sort_desc; break;
	case 'N': t->sort = SORT_NAME; break;
	case 'L': t->sort = SORT_LOAD; break;
	case 'M': t->sort = SORT_MEM; break;
	case KEY_F(9): case 'a': return UI_ACTIONS;
	default: return UI_PASS;
	}
	/* A new filter or sort: the index now, so a key typed ahead acts on what it shows. */
	if (reindex)
		ui_reindex(t);
	if (t->sel < 0)
		t->sel = 0;
	if (t->sel >= (int)t->nidx)
		t->sel = t->nidx ? (int)t->nidx - 1 : 0;
	n = ui_selected(t);
	snprintf(t->sel_name, sizeof(t->sel_name), "%s", n ? n->name : "");
	return UI_DONE;
}

static const char *const list_hints[][2] = {
	{ "F1", "Help" }, { "F3", "Search" }, { "F4", "State" }, { "F5", "Events" },
	{ "F6", "SortBy" }, { "Spc", "Tag" }, { "F9", "Action" }, { "F10", "Quit" },
};

const struct panel_class list_panel = {
	.name = "nodes", .draw = list_draw, .on_key = list_key, .hints = list_hints,
};
