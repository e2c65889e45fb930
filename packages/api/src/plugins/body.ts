// JSON request bodies. Many RealWorld clients send `Content-Type: application/json` on every request,
// including DELETE and POST .../favorite or .../follow, which have no body: an empty body is read as "no
// body" (Fastify's own parser refuses it with a 400). An operation that needs a body then answers 422
// `body: can't be blank`, like any other missing field. Non-empty bodies go through Fastify's parser
// (prototype-poisoning checks included). Anything that is not JSON is a 415.
import fp from 'fastify-plugin';

export default fp(
  async (app) => {
    app.removeContentTypeParser('text/plain');
    const json = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      if ((body as string).trim() === '') return done(null, undefined);
      json(req, body as string, done);
    });
  },
  { name: 'body' },
);
