import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { register } from 'prom-client';

@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('cache-control', 'no-store')
  async metrics(): Promise<string> {
    return register.metrics();
  }
}
