import { DynamicModule, Global, Module } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, type AppConfig, ConfigError } from '@app/config';
import { PG_POOL } from '@app/database';
import { KEK_SETTING, type KeyWrapper, LocalKeyWrapper } from './kek';
import { KeySealer } from './sealer';
import { prepareSealedKeys, SealedSecrets, type SealedColumn } from './sealed-columns';

/**
 * The key-encryption key of this process: KEY_ENCRYPTION_KEYS (required in production), else a
 * development KEK kept in DATA_DIR. A KMS-backed KeyWrapper can be passed instead.
 */
export function keySealerFor(config: Pick<AppConfig, 'env' | 'dataDir' | 'keyEncryption'>, wrapper?: KeyWrapper): KeySealer {
  if (wrapper) return new KeySealer(wrapper);
  const { keysJson, activeId } = config.keyEncryption;
  if (keysJson) return new KeySealer(LocalKeyWrapper.fromJson(keysJson, activeId));
  if (config.env === 'production') {
    throw new ConfigError([
      { variable: KEK_SETTING, message: 'is required in production (the key that seals private keys in the database)' },
    ]);
  }
  return new KeySealer(LocalKeyWrapper.development(config.dataDir));
}

/**
 * KeySealer and SealedSecrets for a process that reads or writes private keys in the database.
 * Start-up checks the KEK against what the database holds and reseals the given columns (see
 * prepareSealedKeys): the process refuses to start with a wrong or missing KEK, naming the setting.
 */
@Global()
@Module({})
export class SecretsModule {
  static forRoot(columns: SealedColumn[]): DynamicModule {
    return {
      module: SecretsModule,
      providers: [
        {
          provide: KeySealer,
          inject: [APP_CONFIG, PG_POOL],
          useFactory: async (config: AppConfig, pool: Pool) => {
            const sealer = keySealerFor(config);
            await prepareSealedKeys(pool, sealer, columns);
            return sealer;
          },
        },
        {
          provide: SealedSecrets,
          inject: [PG_POOL, KeySealer],
          useFactory: (pool: Pool, s: KeySealer) => new SealedSecrets(pool, s),
        },
      ],
      exports: [KeySealer, SealedSecrets],
    };
  }
}
