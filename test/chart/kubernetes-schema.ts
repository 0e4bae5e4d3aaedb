/**
 * Validates rendered objects against the Kubernetes OpenAPI schemas (kubernetes-models), and
 * the Prometheus Operator's for the ServiceMonitor and the PrometheusRule.
 */
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { DaemonSet, Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import type { K8sObject } from "../helpers/helm.ts";

// biome-ignore lint/suspicious/noExplicitAny: each model takes its own typed shape; the rendered YAML is checked by validate().
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "v1/Pod": Pod,
  "apps/v1/DaemonSet": DaemonSet,
  "apps/v1/Deployment": Deployment,
  "v1/Secret": Secret,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

/** Throws when an object does not fit its schema, or is of a kind the chart should not render. */
export function validateObject(object: K8sObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`unexpected ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}
