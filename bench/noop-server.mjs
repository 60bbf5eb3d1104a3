// The baseline for bench:ingest: a Fastify endpoint that parses the same JSON body and answers at once,
// with no validation, no log and no sync. Refinery's figures are read as a share of this ceiling.
import Fastify from 'fastify';

const app = Fastify({ bodyLimit: 1024 * 1024 });
app.post('/v1/batch', async (request) => ({ success: true, accepted: request.body.batch.length }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.send?.('ready');
