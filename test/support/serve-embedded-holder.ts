// A long-lived holder for tests, as the agent will be: serves the embedded catalogue in argv[2] (argv[3]: how
// long a client idle in a transaction may keep others waiting, ms) and reaches it only through its own socket. Prints `ready <socketDir>` once clients may connect; `close` on stdin
// closes it and exits; a SIGKILL leaves its lock and socket directory behind, as a crash would.
import { serveEmbedded } from '../../src/catalogue/serve-embedded.ts';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: serve-embedded-holder.ts <catalogue dir> [idle ms]');
const idle = process.argv[3] === undefined ? {} : { idleInTransactionMs: Number(process.argv[3]) };
const served = await serveEmbedded(dir, 'pgbackman agent (test)', idle);
const own = await served.connect('pgbackman agent (test)');
await own.query('select serial from pgbackman.catalogue');
process.stdout.write(`ready ${served.socketDir}\n`);
process.stdin.on('data', async (line) => {
  if (String(line).trim() !== 'close') return;
  await own.close();
  await served.close();
  await served.close(); // twice: the second call must be harmless
  process.stdout.write('closed\n');
  process.exit(0);
});
