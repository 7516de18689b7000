import { loadDesired } from '../dist/reconcile/load-desired.js';

const dir = process.argv[2];
const mem = (l) => {
  const m = process.memoryUsage();
  console.log(
    l,
    'rss',
    (m.rss / 2 ** 20).toFixed(0),
    'heap',
    (m.heapUsed / 2 ** 20).toFixed(0),
    'ext',
    (m.external / 2 ** 20).toFixed(0),
  );
};
mem('start');
let peak = 0;
const iv = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
const t = performance.now();
const r = await loadDesired([dir], { revision: 'x' });
clearInterval(iv);
console.log(
  'load',
  (performance.now() - t).toFixed(0),
  'ms ok',
  r.ok,
  'peak sampled',
  (peak / 2 ** 20).toFixed(0),
);
mem('after');
global.gc();
mem('after gc (desired kept)');
