import { HubError } from '../errors.js';

/**
 * Errors of the sign-up pages. Each carries the translation key of its message
 * (`signup:errors.*`) and, where the form can point at it, the field.
 */
export class SignupError extends HubError {
  constructor(
    status: number,
    message: string,
    readonly messageKey: string,
    readonly field?: 'username' | 'email' | 'name' | 'password' | 'invite',
    readonly values: Record<string, string | number> = {},
  ) {
    super(status, message);
  }
}

export const signupErrors = {
  closed: () => new SignupError(404, 'This hub does not take sign-ups. Ask an administrator for an account.', 'signup:errors.closed'),
  inviteNeeded: () => new SignupError(403, 'Sign-up on this hub needs an invite link from an administrator.', 'signup:errors.invite-needed', 'invite'),
  inviteInvalid: () => new SignupError(400, 'This invite link is not valid: it was used already, has expired or was mistyped.', 'signup:errors.invite-invalid', 'invite'),
  inviteEmail: () => new SignupError(400, 'This invite is for another e-mail address.', 'signup:errors.invite-email', 'email'),
  username: () => new SignupError(400, 'A username has 2 to 64 letters (of any language), digits, dots, dashes or underscores, with no spaces.', 'signup:errors.username-format', 'username'),
  usernameTaken: () => new SignupError(409, 'This username is taken. Please choose another one.', 'signup:errors.username-taken', 'username'),
  email: () => new SignupError(400, 'That e-mail address does not look right.', 'signup:errors.email-format', 'email'),
  name: () => new SignupError(400, 'A display name has 1 to 100 characters and no control characters.', 'signup:errors.name-format', 'name'),
  passwordsDiffer: () => new SignupError(400, 'The two passwords differ.', 'signup:errors.passwords-differ', 'password'),
  resendByEmail: () => new SignupError(400, 'Type the username you chose when you signed up, not the e-mail address.', 'signup:errors.resend-by-email', 'username'),
  linkInvalid: () => new SignupError(400, 'This link is not valid: it was used already, has expired (after 24 hours) or was mistyped.', 'signup:errors.link-invalid'),
  addressTaken: () => new SignupError(409, 'This e-mail address now belongs to another account, so it cannot be confirmed for this one.', 'signup:errors.address-taken'),
};
