# Only the load balancer reaches the nodes, and only the nodes reach Redis.

resource "aws_security_group" "load_balancer" {
  name_prefix = "${var.name}-lb-"
  description = "HTTPS from the edge to the ${var.region_name} load balancer"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-lb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "load_balancer_https" {
  for_each = toset(var.ingress_cidr_blocks)

  security_group_id = aws_security_group.load_balancer.id
  description       = "HTTPS"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_nodes" {
  security_group_id            = aws_security_group.load_balancer.id
  description                  = "Requests and health checks to the nodes"
  referenced_security_group_id = aws_security_group.node.id
  ip_protocol                  = "tcp"
  from_port                    = var.app.port
  to_port                      = var.app.port
}

resource "aws_security_group" "node" {
  name_prefix = "${var.name}-node-"
  description = "GPU nodes of ${var.region_name}: reachable from the load balancer only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-node" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "node_from_load_balancer" {
  security_group_id            = aws_security_group.node.id
  description                  = "Intake and health checks from the load balancer"
  referenced_security_group_id = aws_security_group.load_balancer.id
  ip_protocol                  = "tcp"
  from_port                    = var.app.port
  to_port                      = var.app.port
}

# The operational port (/metrics, /status) from the scrapers only; the load balancer has no
# listener or target group for it, so it is never reachable from the internet.
resource "aws_vpc_security_group_ingress_rule" "node_ops_from_scrapers" {
  for_each = toset(var.metrics_cidr_blocks)

  security_group_id = aws_security_group.node.id
  description       = "Metrics and status from the region's scrapers"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.app.ops_port
  to_port           = var.app.ops_port
}

# S3, SSM, CloudWatch, the edge, the npm registry and nodejs.org are all HTTPS.
resource "aws_vpc_security_group_egress_rule" "node_https" {
  security_group_id = aws_security_group.node.id
  description       = "HTTPS to AWS APIs, the edge and package downloads"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "node_to_redis" {
  security_group_id            = aws_security_group.node.id
  description                  = "Regional job queue"
  referenced_security_group_id = aws_security_group.redis.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_security_group" "redis" {
  name_prefix = "${var.name}-redis-"
  description = "Job queue of ${var.region_name}: reachable from the nodes only"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-redis" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_nodes" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis (TLS) from the nodes"
  referenced_security_group_id = aws_security_group.node.id
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}
