/**
 * The one place that turns failures into HTTP: HubSpot's error envelope for every error,
 * with the correlation id in the body and the `x-hubspot-correlation-id` header.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';
import type { ErrorCategory, ErrorDetail, ErrorExtras } from '../domain/errors.js';
import { StorageUnavailableError } from '../domain/ports.js';
import { STORAGE_FAULTS } from '../domain/storage-faults.js';
import type { StorageFault } from '../domain/storage-faults.js';

export const JSON_TYPE = 'application/json;charset=utf-8';
export const CORRELATION_HEADER = 'x-hubspot-correlation-id';

const STATUS: Record<ErrorCategory, number> = {
  VALIDATION_ERROR: 400,
  OBJECT_NOT_FOUND: 404,
  OBJECT_ALREADY_EXISTS: 409,
  INVALID_AUTHENTICATION: 401,
  MISSING_SCOPES: 403,
  FORBIDDEN: 403,
};

export interface ErrorEnvelope extends ErrorExtras {
  status: 'error';
  message: string;
  correlationId: string;
  category: string;
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  category: string,
  message: string,
  extras: ErrorExtras = {},
): FastifyReply {
  const body: ErrorEnvelope = { status: 'error', message, correlationId: request.id, category, ...extras };
  return reply.code(status).header(CORRELATION_HEADER, request.id).type(JSON_TYPE).send(body);
}

/** A storage fault's `subCategory`: `STORAGE_FULL`, `STORAGE_READ_ONLY`, `STORAGE_UNREACHABLE`… */
export const storageSubCategory = (fault: StorageFault): string =>
  `STORAGE_${fault.toUpperCase().replaceAll('-', '_')}`;

export const AUTH_MESSAGE =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export function sendDomainError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: DomainError,
): FastifyReply {
  if (err.category === 'INVALID_AUTHENTICATION') reply.header('x-hubspot-auth-failure', '401 Unauthorized');
  return sendError(request, reply, STATUS[err.category], err.category, err.message, err.extras);
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/stages/0/label` → `stages[0].label` */
function fieldPath(instancePath: string, extra?: unknown): string {
  const parts = instancePath.split('/').slice(1);
  if (typeof extra === 'string') parts.push(extra);
  return parts.reduce(
    (path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part),
    '',
  );
}

const CODES: Record<string, string> = {
  required: 'REQUIRED',
  type: 'INVALID_TYPE',
  format: 'INVALID_FORMAT',
};

function validationDetails(errors: AjvError[], where: string): { message: string; details: ErrorDetail[] } {
  const details = errors.map((e): ErrorDetail => {
    const field = fieldPath(e.instancePath, e.params.missingProperty);
    const message =
      e.keyword === 'required'
        ? `${field} is required`
        : `${field || where} ${e.message ?? 'is invalid'}${e.keyword === 'enum' ? `: ${String((e.params.allowedValues as unknown[]).join(', '))}` : ''}`;
    return { message, in: field || where, code: CODES[e.keyword] ?? 'INVALID_VALUE' };
  });
  const prefix = where === 'body' ? 'Invalid input JSON' : `Invalid ${where}`;
  return { message: `${prefix}: ${details.map((d) => d.message).join('; ')}`, details };
}

const CONTEXT_NAMES: Record<string, string> = { querystring: 'query parameter', params: 'path parameter' };

export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof DomainError) return sendDomainError(request, reply, error);
  if (error instanceof StorageUnavailableError) {
    // Logged once per episode at `error` by the storage health, not once per request here.
    request.log.debug({ err: error.cause ?? error, storageFault: error.fault }, 'storage fault');
    const { message, retryAfterSeconds } = STORAGE_FAULTS[error.fault];
    reply.header('retry-after', String(retryAfterSeconds));
    return sendError(request, reply, 503, 'SERVICE_UNAVAILABLE', message, {
      subCategory: storageSubCategory(error.fault),
    });
  }
  if (error.validation) {
    const where = CONTEXT_NAMES[error.validationContext ?? 'body'] ?? 'body';
    const { message, details } = validationDetails(error.validation as AjvError[], where);
    return sendError(request, reply, 400, 'VALIDATION_ERROR', message, { errors: details });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendError(
        request,
        reply,
        413,
        'VALIDATION_ERROR',
        'Request body is larger than the limit of this server',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendError(
        request,
        reply,
        415,
        'VALIDATION_ERROR',
        `Unsupported content type ${request.headers['content-type'] ?? '(none)'}: send application/json`,
      );
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return sendError(request, reply, 400, 'VALIDATION_ERROR', `Invalid input JSON: ${error.message}`);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return sendError(request, reply, status, 'VALIDATION_ERROR', error.message);
  }
  const unavailable = status === 503;
  if (unavailable) request.log.warn({ err: error }, 'answered 503');
  else request.log.error({ err: error }, 'unhandled error');
  return sendError(
    request,
    reply,
    unavailable ? 503 : 500,
    unavailable ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_ERROR',
    unavailable ? 'The service is temporarily unavailable' : 'An internal error occurred',
  );
}
