/** The OpenAPI header for the REST API; paths come from the route schemas. */
import type { SwaggerOptions } from '@fastify/swagger';

export function openApiInfo(): NonNullable<Extract<SwaggerOptions, { openapi?: unknown }>['openapi']> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Refinery API',
      version: '0.1.0',
      description:
        'Collect Segment-compatible events, import files, manage keys and query the store. Errors are JSON `{code, message, field?}`; codes are listed in docs/errors.md.',
    },
    tags: [
      { name: 'collect', description: 'Segment-compatible collection (write key)' },
      { name: 'admin', description: 'Workspace administration and data access (API key; see docs/roles.md)' },
      {
        name: 'profiles',
        description: 'One profile per person: identities, traits, computed traits, events',
      },
      { name: 'meta', description: 'Health and SDK settings' },
    ],
    components: {
      securitySchemes: {
        writeKey: {
          type: 'http',
          scheme: 'basic',
          description: 'The source write key as the Basic user, empty password.',
        },
        adminKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key from `refinery keys create --kind admin|analyst|privacy|read`; what it may do depends on its kind (docs/roles.md).',
        },
      },
    },
  };
}
