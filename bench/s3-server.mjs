// The storage benchmark's S3 server, in a process of its own so its CPU time is not pgbackman's (and can be
// read apart, from /proc): s3rver (a real S3-compatible server, as the tests use) on 127.0.0.1, a free port.
//   node bench/s3-server.mjs DIRECTORY BUCKET...
// Objects are kept under DIRECTORY/BUCKET/ (s3rver's file system store: KEY._S3rver_object and its metadata).
// Prints one JSON line, {"port":N,"pid":N}, once it listens; stops on SIGTERM, SIGINT, or when its stdin closes
// (the benchmark that started it is gone).
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
if (directory === undefined || buckets.length === 0) {
  process.stderr.write('usage: s3-server.mjs DIRECTORY BUCKET...\n');
  process.exit(2);
}

const server = new S3rver({
  port: 0,
  address: '127.0.0.1',
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port, pid: process.pid })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
