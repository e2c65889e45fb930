// Shared pieces of the request/response schemas (zod; also the source of the OpenAPI document).
import { z } from 'zod';

/** RealWorld error shape: {"errors": {"field": ["message"]}}. */
export const ErrorBody = z.object({ errors: z.record(z.string(), z.array(z.string())) }).meta({ id: 'GenericErrorModel' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const Profile = z
  .object({
    username: z.string(),
    bio: z.string().nullable(),
    image: z.string().nullable(),
    following: z.boolean(),
  })
  .meta({ id: 'Profile' });
export type Profile = z.infer<typeof Profile>;

/** A required string that is not only whitespace. */
export const nonBlank = (max: number) =>
  z.string().max(max, `is too long (maximum is ${max} characters)`).refine((s) => s.trim().length > 0, "can't be blank");

/** Integer query parameter given as digits. */
export const intQuery = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'must be an integer')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

export const Slug = z.string().min(1).max(255);

export const errorResponses = {
  401: ErrorBody.describe('Unauthorized: token missing or invalid'),
  422: ErrorBody.describe('Invalid input'),
} as const;
