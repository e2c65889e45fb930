/** A problem the user can fix; the message is one line saying what and how. */
export class RegionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegionError';
  }
}
