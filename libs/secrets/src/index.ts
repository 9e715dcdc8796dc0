export { KeySealer } from './sealer';
export { LocalKeyWrapper, KEK_SETTING, newKekJson } from './kek';
export type { KeyWrapper } from './kek';
export { SealedSecrets, prepareSealedKeys, resealColumn, contextOf } from './sealed-columns';
export type { SealedColumn } from './sealed-columns';
export { SecretsModule, keySealerFor } from './secrets.module';
export { createCa, issueLeaf, loadCa, newKeyPair, newSerial, privateKeyPem, pemOf, EC_P256, ECDSA_SHA256, DAY_MS } from './x509';
export type { SigningCa, IssuedLeaf } from './x509';
