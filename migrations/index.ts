import { EventStore1732320000000 } from './1732320000000-event-store';
import { RoutingReadModel1732320100000 } from './1732320100000-routing-read-model';
import { Projections1732320200000 } from './1732320200000-projections';
import { NginxRenderState1732320400000 } from './1732320400000-nginx-render-state';
import { Onboarding1732320500000 } from './1732320500000-onboarding';
import { Audit1732320600000 } from './1732320600000-audit';
import { Sso1732320900000 } from './1732320900000-sso';
import { VpnServer1732321600000 } from './1732321600000-vpn-server';

/** Every migration, in order. Listed explicitly so compiled builds need no file globbing. */
export const migrations = [
  EventStore1732320000000,
  RoutingReadModel1732320100000,
  Projections1732320200000,
  NginxRenderState1732320400000,
  Onboarding1732320500000,
  Audit1732320600000,
  Sso1732320900000,
  VpnServer1732321600000,
];
