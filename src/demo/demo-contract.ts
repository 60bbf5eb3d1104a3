import { CATEGORIES } from './catalogue.js';

/**
 * The demo bakery's data contract: what its web shop promises to send. Orders are enforced (a broken
 * order would be quarantined), product events and identify traits only warn, and anything undeclared is
 * allowed, as a shop usually starts.
 */
export function demoContractText(): string {
  const categories = CATEGORIES.map((category) => JSON.stringify(category)).join(', ');
  return `# The demo bakery's tracking plan as an ODCS v3 data contract (see README, "Govern your data with contracts").
apiVersion: v3.1.0
kind: DataContract
id: bakery-web-events
version: 1.0.0
status: active
name: Bakery web shop events
description:
  purpose: What the bakery's web shop sends to Refinery, and what each field must hold.
team:
  name: web-shop
customProperties:
  - property: refinery.mode
    value: enforce
schema:
  - name: order_completed
    physicalType: track
    physicalName: Order Completed
    description: A paid order.
    properties:
      - name: order_id
        logicalType: string
        required: true
      - name: total
        logicalType: number
        required: true
        logicalTypeOptions:
          minimum: 0
      - name: currency
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments:
              validValues: [GBP]
            mustBe: 0
      - name: products
        logicalType: array
        required: true
        logicalTypeOptions:
          minItems: 1
        items:
          logicalType: object
          properties:
            - name: product_id
              logicalType: string
              required: true
            - name: quantity
              logicalType: integer
              required: true
              logicalTypeOptions:
                minimum: 1
  - name: product_viewed
    physicalType: track
    physicalName: Product Viewed
    customProperties:
      - property: refinery.mode
        value: warn
    properties: &product
      - name: product_id
        logicalType: string
        required: true
      - name: price
        logicalType: number
        required: true
        logicalTypeOptions:
          exclusiveMinimum: 0
      - name: category
        logicalType: string
        quality:
          - metric: invalidValues
            arguments:
              validValues: [${categories}]
            mustBe: 0
  - name: product_added
    physicalType: track
    physicalName: Product Added
    customProperties:
      - property: refinery.mode
        value: warn
    properties: *product
  - name: identify
    physicalType: identify
    customProperties:
      - property: refinery.mode
        value: warn
    properties:
      - name: email
        logicalType: string
        classification: PII
        logicalTypeOptions:
          format: email
slaProperties:
  - property: freshness
    value: 1
    unit: d
    element: order_completed.received_at
`;
}
