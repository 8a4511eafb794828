export const argon2id = /^\$argon2id\$/;
