import { readFileSync } from 'node:fs';
import https from 'node:https';
import { fork } from 'node:child_process';
import { Agent, request } from 'undici';
const key = readFileSync('/tmp/exp/k.pem'), cert = readFileSync('/tmp/exp/c.pem');
if (process.argv[2] === 'server') {
  const s = https.createServer({ key, cert }, (q, r) => { if (q.url === '/close') r.setHeader('connection', 'close'); r.end('ok'); }); s.keepAliveTimeout = 60000;
  let conns = 0; s.on('secureConnection', () => conns++); process.on('message', () => process.send({ conns })); s.listen(0, '127.0.0.1', () => process.send(s.address().port));
} else {
  const child = fork(new URL(import.meta.url).pathname, ['server']);
  const port = await new Promise((r) => child.once('message', r));
  const agent = new Agent({ keepAliveTimeout: 60000, connect: { ca: cert, servername: 'x.example', ...(process.argv[2]==='nocache'?{maxCachedSessions:0}:{}) } });
  const get = async (p) => { const { body } = await request(`https://127.0.0.1:${port}${p}`, { dispatcher: agent }); await body.text(); };
  for (let i = 0; i < 50; i++) { await get('/close'); await get('/keep'); }
  for (let r = 0; r < 6; r++) for (const p of ['/close', '/keep']) {
    const n = 20; const c0 = process.cpuUsage(); const t0 = performance.now();
    for (let i = 0; i < n; i++) await get(p);
    const c = process.cpuUsage(c0);
    child.send('count'); const { conns } = await new Promise((r) => child.once('message', r));
    console.log(p, 'conns so far', conns, 'cpu ms/req', ((c.user + c.system) / 1000 / n).toFixed(3), 'wall', ((performance.now() - t0) / n).toFixed(3));
  }
  await agent.close(); child.kill();
}
