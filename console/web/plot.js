// A live plot of one gauge with uPlot: the last hour, its watermarks (dashed
// grey) and its thresholds (rise solid red, clear dashed orange) drawn as
// horizontal lines over the series.
import uPlot from './node_modules/uplot/dist/uPlot.esm.js';
import { h } from './util.js';

// Tick labels that fit the axis: 306K, 305.5K, 0.25.
const axisFmt = new Intl.NumberFormat(undefined, { notation: 'compact', maximumSignificantDigits: 4 });

function lines(node, name) {
  const out = [];
  const wm = node.watermarks && node.watermarks[name];
  if (Array.isArray(wm)) {
    out.push({ y: wm[0], color: '#888', dash: [4, 4], label: 'low wm' });
    out.push({ y: wm[1], color: '#888', dash: [4, 4], label: 'high wm' });
  }
  for (const t of node.thresholds || []) {
    if (t.value !== name) continue;
    out.push({ y: t.rise, color: '#d33', dash: [], label: `${t.kind} rise${t.state === 'raised' ? ' (raised)' : ''}` });
    out.push({ y: t.clear, color: '#e90', dash: [6, 3], label: `${t.kind} clear` });
  }
  return out.filter((l) => typeof l.y === 'number');
}

export class GaugePlot {
  constructor(parent, name, unit, width) {
    this.name = name;
    this.lines = [];
    this.el = h('div', { class: 'plot', dataset: { value: name } });
    parent.append(this.el);
    const self = this;
    const opts = {
      title: name + (unit ? ` (${unit})` : ''),
      width, height: 170,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: {
          range: (u, min, max) => {
            for (const l of self.lines) { min = Math.min(min, l.y); max = Math.max(max, l.y); }
            if (!isFinite(min)) { min = 0; max = 1; }
            const pad = (max - min) * 0.08 || Math.abs(max) * 0.1 || 1;
            return [min - pad, max + pad];
          },
        },
      },
      axes: [{}, { size: 56, values: (u, vals) => vals.map((v) => axisFmt.format(v)) }],
      series: [{}, { label: name, stroke: '#2a6fdb', width: 1.5, fill: 'rgba(42,111,219,0.08)', points: { show: false } }],
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.font = `${10 * devicePixelRatio}px sans-serif`;
          for (const l of self.lines) {
            const y = Math.round(u.valToPos(l.y, 'y', true));
            ctx.strokeStyle = l.color;
            ctx.fillStyle = l.color;
            ctx.lineWidth = devicePixelRatio;
            ctx.setLineDash(l.dash.map((d) => d * devicePixelRatio));
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            // Labels of lines that sit close together go on opposite sides.
            const below = l.label.endsWith('clear') || l.label === 'low wm';
            ctx.textBaseline = below ? 'top' : 'bottom';
            ctx.fillText(l.label, u.bbox.left + (below ? 60 : 4) * devicePixelRatio, y + (below ? 2 : -2) * devicePixelRatio);
          }
          ctx.restore();
        }],
      },
    };
    this.u = new uPlot(opts, [[], []], this.el);
    this.points = 0;
  }

  update(node, hist) {
    this.lines = lines(node, this.name);
    const col = hist.cols.get(this.name) || [];
    this.points = col.filter((x) => x !== null).length;
    this.el.dataset.points = String(this.points);
    this.u.setData([hist.t.slice(), col.slice()]);
  }

  resize(width) { this.u.setSize({ width, height: 170 }); }
  destroy() { this.u.destroy(); this.el.remove(); }
}
