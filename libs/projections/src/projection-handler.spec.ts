import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { isProjectionHandler, ProjectionHandler } from './projection-handler';

@ProjectionHandler()
class Declared {
  readonly name = 'declared';
  readonly tables = [];
  async handle(): Promise<void> {}
}

class Plain {
  readonly name = 'plain';
  readonly tables = [];
  async handle(): Promise<void> {}
}

@Module({
  imports: [DiscoveryModule],
  providers: [Declared, Plain, { provide: 'off', useFactory: () => null }, { provide: 'made', useFactory: () => new Declared() }],
})
class AppModule {}

describe('projection handlers (@nestjs/cqrs declaration, Nest discovery)', () => {
  it('tells a declared projection from any other object', () => {
    expect(isProjectionHandler(new Declared())).toBe(true);
    expect(isProjectionHandler(new Plain())).toBe(false);
    expect(isProjectionHandler(null)).toBe(false);
    expect(isProjectionHandler({ handle: () => undefined })).toBe(false);
  });

  it('finds class and factory providers of a module, and not a factory that returned null (a projection turned off)', async () => {
    const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const found = app
      .get(DiscoveryService)
      .getProviders()
      .map((w) => w.instance)
      .filter(isProjectionHandler);
    expect(found).toHaveLength(2);
    expect(found.every((p) => p instanceof Declared)).toBe(true);
    await app.close();
  });
});
