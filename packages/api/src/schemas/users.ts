import { z } from 'zod';
import { ErrorBody, errorResponses } from './common.js';

const isHttpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

export const Username = z
  .string()
  .min(1, "can't be blank")
  .max(64, 'is too long (maximum is 64 characters)')
  .regex(/^[A-Za-z0-9_.-]+$/, 'may contain only letters, digits, "_", "." and "-"');
export const Email = z.string().max(254, 'is too long (maximum is 254 characters)').pipe(z.email({ message: 'is invalid' }));
export const Password = z.string().min(8, 'is too short (minimum is 8 characters)').max(128, 'is too long (maximum is 128 characters)');
/** Empty string is accepted and stored as null. */
export const Bio = z.string().max(2000, 'is too long (maximum is 2000 characters)').nullable();
export const Image = z
  .string()
  .max(2048, 'is too long (maximum is 2048 characters)')
  .refine((s) => s === '' || isHttpUrl(s), 'must be an http(s) URL')
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
  user: z.object({ email: z.string().min(1, "can't be blank").max(254), password: z.string().min(1, "can't be blank").max(128) }),
});

export const RegisterBody = z.object({
  user: z.object({ username: Username, email: Email, password: Password }),
});

export const UpdateUserBody = z.object({
  user: z
    .object({
      email: Email.optional(),
      password: Password.optional(),
      username: Username.optional(),
      bio: Bio.optional(),
      image: Image.optional(),
    })
    .refine((u) => Object.values(u).some((v) => v !== undefined), 'must contain at least one field'),
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
