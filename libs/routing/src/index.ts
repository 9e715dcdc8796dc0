export { RoutingModule, RoutingProjectionModule } from './routing.module';
export { RoutingProjection } from './routing.projection';
export type { RoutingProjectionOptions } from './routing.projection';
export { evolveRouting, routesOf, isRoutingEvent } from './routing';
export type { RoutingState, RouteRow, RoutingOptions } from './routing';
export { RoutesReadService } from './read/routes.service';
export { readRenderRoutes, readContainerRoutes } from './read/routes.reader';
export type { RenderRoute, ContainerRoute } from './read/routes.reader';
