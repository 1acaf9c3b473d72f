/**
 * The error model of the whole service. The category is data; exactly one place
 * (src/http/error-handler.ts) maps it to an HTTP status and HubSpot's envelope.
 */
export type ErrorCategory =
  | 'VALIDATION_ERROR'
  | 'OBJECT_NOT_FOUND'
  | 'OBJECT_ALREADY_EXISTS'
  | 'INVALID_AUTHENTICATION'
  | 'MISSING_SCOPES'
  /** Refused whatever the request says: open mode's `--max-portals`, say. */
  | 'FORBIDDEN';

export interface ErrorDetail {
  message: string;
  in?: string;
  code?: string;
  subCategory?: string;
  context?: Record<string, string[]>;
}

export interface ErrorExtras {
  subCategory?: string;
  context?: Record<string, string[]>;
  errors?: ErrorDetail[];
  links?: Record<string, string>;
}

export class DomainError extends Error {
  constructor(
    readonly category: ErrorCategory,
    message: string,
    readonly extras: ErrorExtras = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (message: string, extras?: ErrorExtras): DomainError =>
  new DomainError('VALIDATION_ERROR', message, extras);

export const notFound = (message: string): DomainError => new DomainError('OBJECT_NOT_FOUND', message);

export const alreadyExists = (message: string): DomainError =>
  new DomainError('OBJECT_ALREADY_EXISTS', message);
