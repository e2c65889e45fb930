// Errors the routes raise on purpose; the one error handler turns them into RealWorld bodies.
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly errors: Record<string, string[]>,
  ) {
    super(Object.entries(errors).map(([k, v]) => `${k} ${v.join(', ')}`).join('; '));
  }
}

export const notFound = (what: string) => new HttpError(404, { [what]: ['not found'] });
export const forbidden = (what: string) => new HttpError(403, { [what]: ['forbidden'] });
export const unauthorized = (why: 'is missing' | 'is invalid') => new HttpError(401, { token: [why] });
export const unprocessable = (field: string, message: string) => new HttpError(422, { [field]: [message] });
export const conflict = (fields: string[]) => new HttpError(409, Object.fromEntries(fields.map((f) => [f, ['has already been taken']])));
