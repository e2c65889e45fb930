import { z } from 'zod';
import { ErrorBody, Profile, errorResponses } from './common.js';

export const ProfileResponse = z.object({ profile: Profile });
export type ProfileResponse = z.infer<typeof ProfileResponse>;
const params = z.object({ username: z.string().min(1).max(255) });

export const getProfileSchema = {
  tags: ['Profile'],
  summary: 'Get a profile (auth optional)',
  params,
  response: { 200: ProfileResponse, 404: ErrorBody, ...errorResponses },
};
export const followSchema = {
  tags: ['Profile'],
  summary: 'Follow a user',
  security: [{ Token: [] }],
  params,
  response: { 200: ProfileResponse, 404: ErrorBody, ...errorResponses },
};
export const unfollowSchema = { ...followSchema, summary: 'Unfollow a user' };
