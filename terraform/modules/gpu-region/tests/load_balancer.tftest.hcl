# Only the load balancer reaches the nodes; it routes to nodes whose /readyz is true, over HTTPS.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "listener_and_security_groups" {
  command = apply

  assert {
    condition     = aws_lb_target_group.this.health_check[0].path == "/readyz" && aws_lb_target_group.this.health_check[0].matcher == "200"
    error_message = "Nodes must be health-checked on /readyz."
  }

  assert {
    condition     = aws_lb_target_group.this.port == 8080 && aws_lb_target_group.this.protocol == "HTTP"
    error_message = "The target group must reach the node service on its port."
  }

  assert {
    condition     = aws_lb_listener.https.protocol == "HTTPS" && aws_lb_listener.https.port == 443 && aws_lb_listener.https.certificate_arn == var.certificate_arn
    error_message = "The listener must serve HTTPS with the given certificate."
  }

  assert {
    condition     = startswith(aws_lb_listener.https.ssl_policy, "ELBSecurityPolicy-TLS13")
    error_message = "The listener must offer TLS 1.3."
  }

  assert {
    condition     = aws_lb.this.drop_invalid_header_fields && aws_lb.this.enable_deletion_protection
    error_message = "The load balancer drops invalid headers and is protected from deletion by default."
  }

  assert {
    condition     = output.endpoint == "https://us-east.regions.genart.example" && length(aws_route53_record.this) == 0
    error_message = "The endpoint is the HTTPS domain name; no DNS record without a zone."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.node_from_load_balancer.referenced_security_group_id == aws_security_group.load_balancer.id && aws_vpc_security_group_ingress_rule.node_from_load_balancer.from_port == 8080 && aws_vpc_security_group_ingress_rule.node_from_load_balancer.to_port == 8080
    error_message = "Nodes accept the service port from the load balancer's security group only."
  }

  assert {
    condition = length([
      for r in [aws_vpc_security_group_ingress_rule.node_from_load_balancer, aws_vpc_security_group_ingress_rule.redis_from_nodes] : r if r.cidr_ipv4 != null || r.cidr_ipv6 != null
    ]) == 0
    error_message = "Nodes and Redis accept no traffic from address ranges, only from security groups."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.redis_from_nodes.referenced_security_group_id == aws_security_group.node.id
    error_message = "Redis accepts the nodes only."
  }

  assert {
    condition     = keys(aws_vpc_security_group_ingress_rule.load_balancer_https) == ["0.0.0.0/0"] && aws_vpc_security_group_ingress_rule.load_balancer_https["0.0.0.0/0"].from_port == 443
    error_message = "The load balancer accepts HTTPS from ingress_cidr_blocks."
  }

  assert {
    condition     = alltrue([for t in values(aws_launch_template.this) : t.vpc_security_group_ids == toset([aws_security_group.node.id]) && t.metadata_options[0].http_tokens == "required"])
    error_message = "Nodes carry the node security group only and require IMDSv2."
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.node_ops_from_scrapers) == 0 && aws_lb_target_group.this.port != var.app.ops_port
    error_message = "The operational port (/metrics, /status) is closed by default and never behind the load balancer."
  }
}

run "metrics_from_the_scrapers_only" {
  command = apply

  variables {
    metrics_cidr_blocks = ["10.20.0.0/16"]
  }

  assert {
    condition     = keys(aws_vpc_security_group_ingress_rule.node_ops_from_scrapers) == ["10.20.0.0/16"] && aws_vpc_security_group_ingress_rule.node_ops_from_scrapers["10.20.0.0/16"].from_port == 9464 && aws_vpc_security_group_ingress_rule.node_ops_from_scrapers["10.20.0.0/16"].to_port == 9464
    error_message = "The operational port opens to metrics_cidr_blocks only."
  }
}

run "requested_certificate_and_dns" {
  command = apply

  variables {
    certificate_arn = null
    route53_zone_id = "Z0123456789ABCDEFGHIJ"
  }

  assert {
    condition     = aws_route53_record.this[0].name == "us-east.regions.genart.example" && aws_route53_record.this[0].alias[0].name == aws_lb.this.dns_name
    error_message = "With a zone, domain_name is an alias of the load balancer."
  }

  assert {
    condition     = aws_acm_certificate.this[0].domain_name == "us-east.regions.genart.example" && aws_acm_certificate.this[0].validation_method == "DNS"
    error_message = "Without certificate_arn the module requests a DNS-validated certificate for domain_name."
  }

  assert {
    condition     = aws_route53_record.certificate_validation[0].zone_id == "Z0123456789ABCDEFGHIJ" && aws_lb_listener.https.certificate_arn == aws_acm_certificate_validation.this[0].certificate_arn
    error_message = "The listener must serve the certificate only once it is validated."
  }
}

run "certificate_needs_a_zone" {
  command = plan

  variables {
    certificate_arn = null
    route53_zone_id = null
  }

  expect_failures = [var.certificate_arn]
}
