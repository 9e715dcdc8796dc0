/** Types of dashboard-build.js (plain JavaScript: jest's global setup loads it untransformed). */
export declare const DASHBOARD_DIR: string;
export declare function ensureDashboardBuilt(): void;
