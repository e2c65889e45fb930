import { z } from 'zod';
import { ErrorBody, errorResponses, filled } from './common.js';

const isHttpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

export const Username = filled()
  .max(64, 'is too long (maximum is 64 characters)')
  .regex(/^[A-Za-z0-9_.-]+$/, 'is invalid (letters, digits, "_", "." and "-" only)');
export const Email = filled().max(254, 'is too long (maximum is 254 characters)').pipe(z.email({ message: 'is invalid' }));
const passwordLength = (s: z.ZodString) => s.min(8, 'is too short (minimum is 8 characters)').max(128, 'is too long (maximum is 128 characters)');
export const Password = passwordLength(filled());
/** On update, an empty password means "unchanged" (clients send every field of their settings form). */
const NewPasswordOrEmpty = z.literal('').or(passwordLength(z.string()));
/** Empty string is accepted and stored as null. */
export const Bio = z.string().max(2000, 'is too long (maximum is 2000 characters)').nullable();
export const Image = z
  .string()
  .max(2048, 'is too long (maximum is 2048 characters)')
  .refine((s) => s === '' || isHttpUrl(s), 'is invalid (an http(s) URL)')
  .nullable();

export const User = z
  .object({
    email: z.string(),
    token: z.string(),
    username: z.string(),
    bio: z.string().nullable(),
    image: z.string().nullable(),
  })
  .meta({ id: 'User' });
export const UserResponse = z.object({ user: User });
export type UserResponse = z.infer<typeof UserResponse>;

export const LoginBody = z.object({
  user: z.object({
    email: filled().max(254, 'is too long (maximum is 254 characters)'),
    password: filled().max(128, 'is too long (maximum is 128 characters)'),
  }),
});

export const RegisterBody = z.object({
  user: z.object({ username: Username, email: Email, password: Password }),
});

export const UpdateUserBody = z.object({
  user: z
    .object({
      email: Email.optional(),
      password: NewPasswordOrEmpty.optional(),
      username: Username.optional(),
      bio: Bio.optional(),
      image: Image.optional(),
      /**
       * Not in the RealWorld contract (an extension): the account's password, required to change the email or
       * the password unless the token's sign-in is recent (api.auth.recentSignInMinutes).
       */
      currentPassword: z.string().max(128, 'is too long (maximum is 128 characters)').optional(),
    })
    .refine(({ currentPassword: _, ...fields }) => Object.values(fields).some((v) => v !== undefined), 'must contain at least one field'),
});

export const loginSchema = {
  tags: ['User and Authentication'],
  summary: 'Existing user login',
  body: LoginBody,
  response: { 200: UserResponse, 401: ErrorBody, 422: ErrorBody, 429: ErrorBody },
};
export const registerSchema = {
  tags: ['User and Authentication'],
  summary: 'Register a new user',
  body: RegisterBody,
  response: { 201: UserResponse, 409: ErrorBody, 422: ErrorBody, 429: ErrorBody },
};
export const currentUserSchema = {
  tags: ['User and Authentication'],
  summary: 'Get current user',
  security: [{ Token: [] }],
  response: { 200: UserResponse, ...errorResponses },
};
export const updateUserSchema = {
  tags: ['User and Authentication'],
  summary: 'Update current user',
  security: [{ Token: [] }],
  body: UpdateUserBody,
  response: { 200: UserResponse, ...errorResponses },
};
