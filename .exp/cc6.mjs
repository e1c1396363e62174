import { readFileSync } from 'node:fs';
import https from 'node:https';
import { fork } from 'node:child_process';
import { Agent, request } from 'undici';
const key = readFileSync('/tmp/exp/k.pem'), cert = readFileSync('/tmp/exp/c.pem');
if (process.argv[2] === 'server') {
  const s = https.createServer({ key, cert }, (q, r) => { if (q.url === '/close') r.setHeader('connection', 'close'); r.end('ok'); }); s.keepAliveTimeout = 60000;
  s.listen(0, '127.0.0.1', 4096, () => process.send(s.address().port));
} else {
  const child = fork(new URL(import.meta.url).pathname, ['server']);
  const port = await new Promise((r) => child.once('message', r));
  const mk = () => new Agent({ keepAliveTimeout: 60000, connect: { ca: cert, servername: 'x.example', rejectUnauthorized: false } });
  const fresh = mk(), kept = mk();
  const get = async (a, p) => { const { body } = await request(`https://127.0.0.1:${port}${p}`, { dispatcher: a }); await body.text(); };
  for (const burst of [1, 20, 60]) {
    const round = (a, p) => Promise.all(Array.from({ length: burst }, () => get(a, p)));
    for (let i = 0; i < 5; i++) { await round(fresh, '/close'); await round(kept, '/keep'); }
    const res = { close: 0, keep: 0 };
    const rounds = Math.ceil(300 / burst);
    for (let r = 0; r < rounds; r++) for (const [a, p] of [[fresh, '/close'], [kept, '/keep']]) {
      const c0 = process.cpuUsage(); await round(a, p); const c = process.cpuUsage(c0);
      res[p.slice(1)] += (c.user + c.system) / 1000;
    }
    const n = rounds * burst;
    console.log('burst', burst, 'close ms/req', (res.close / n).toFixed(3), 'keep ms/req', (res.keep / n).toFixed(3), 'connect ms', ((res.close - res.keep) / n).toFixed(3));
  }
  await fresh.close(); await kept.close(); child.kill();
}
