import type { IncomingMessage, ServerResponse } from 'node:http';

/** The parts of oidc-provider's Provider this gateway uses (the package ships no CommonJS types). */
export interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ uid: string; prompt: { name: string }; params: Record<string, unknown> }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: unknown, o?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  AuthorizationCode: { find(code: string): Promise<AuthorizationCodeEntity | undefined> };
  AccessToken: { find(id: string): Promise<{ clientId: string; accountId: string; destroy(): Promise<void> } | undefined> };
  Client: { prototype: Record<string, unknown> };
  Grant: new (o: { accountId: string; clientId: string }) => GrantEntity;
  proxy: boolean;
  on(event: string, fn: (...args: unknown[]) => void): void;
}
export interface AuthorizationCodeEntity {
  clientId: string;
  redirectUri: string;
  accountId: string;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  nonce?: string;
  consumed?: number;
  consume(): Promise<void>;
}
export interface GrantEntity {
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
}
