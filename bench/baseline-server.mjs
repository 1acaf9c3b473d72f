// Baseline (a), for reads: bare Fastify answering any path with the bytes Stageline sends for the
// scenario under test (see canned.mjs). Also the server whose spawn-to-listen time Stageline's
// startup is compared with.
import { cannedApp, listen } from './canned.mjs';

const { app, answer } = cannedApp();
app.route({
  method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  url: '/*',
  handler: async (request, reply) => answer(request, reply),
});
await listen(app);
