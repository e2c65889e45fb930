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

// Validation messages follow the RealWorld reference (Rails) conventions, the same for every field:
// missing, null or empty/whitespace-only required field -> "can't be blank" (checked before any other rule);
// wrong JSON type or format -> "is invalid" (a format may add a hint in parentheses); lengths ->
// "is too long (maximum is N characters)" / "is too short (minimum is N characters)"; numbers -> "is not a
// number", "must be greater than or equal to N", "must be less than or equal to N"; uniqueness -> "has already been taken".

/** A string that must not be blank; the blank check runs first and stops the other rules. */
export const filled = () => z.string().refine((s) => s.trim().length > 0, { message: "can't be blank", abort: true });

/** A required string that is not only whitespace. */
export const nonBlank = (max: number) => filled().max(max, `is too long (maximum is ${max} characters)`);

/** Integer query parameter given as digits. */
export const intQuery = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'is not a number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be greater than or equal to ${min}`).max(max, `must be less than or equal to ${max}`));

export const Slug = z.string().min(1).max(255);

export const errorResponses = {
  401: ErrorBody.describe('Unauthorized: token missing or invalid'),
  422: ErrorBody.describe('Invalid input'),
} as const;
