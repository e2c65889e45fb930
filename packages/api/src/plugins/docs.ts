// The OpenAPI document, generated from the same zod schemas that validate requests and responses,
// served with a browsable UI at /api/docs (JSON at /api/docs/json).
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export default fp<{ publicUrl: string | null }>(
  async (app, opts) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Conduit API', description: 'RealWorld Conduit API (version 2.0.0 of the contract)', version: '2.0.0' },
        servers: [{ url: opts.publicUrl ?? '/' }],
        components: {
          securitySchemes: {
            Token: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Token <jwt> (from /api/users or /api/users/login)' },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/api/docs' });
  },
  { name: 'docs' },
);
