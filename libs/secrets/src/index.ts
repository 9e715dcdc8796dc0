export { KeySealer } from './sealer';
export { LocalKeyWrapper, KEK_SETTING, newKekJson } from './kek';
export type { KeyWrapper } from './kek';
export { SealedSecrets, prepareSealedKeys, resealColumn, contextOf } from './sealed-columns';
export type { SealedColumn } from './sealed-columns';
export { SecretsModule, keySealerFor } from './secrets.module';
