//! The API surfaces kassa serves. Each has its own request and response types and its own
//! error shape, over one shared domain; the surface of a request follows from its path.

/// Which API (or page family) a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/api/v1/...`: Loops V1, camelCase JSON, Loops errors.
    LoopsV1,
    /// `/api/v2/...`: Loops V2, camelCase JSON, Loops errors.
    LoopsV2,
    /// `/api/v3/...`: Loops V3, Stripe-flavoured JSON, Stripe errors.
    LoopsV3,
    /// `/v1/...`: the Stripe API, form-encoded or JSON, Stripe errors.
    Stripe,
    /// Hosted checkout, payment link, customer portal, dashboard and API reference pages: HTML.
    Pages,
    /// Everything else (`/healthz`, `/openapi.json`, unknown paths): JSON, Stripe errors.
    Operations,
}

impl Surface {
    pub fn of_path(path: &str) -> Surface {
        let starts = |prefix: &str| Surface::starts(path, prefix);
        if starts("/api/v1") {
            Surface::LoopsV1
        } else if starts("/api/v2") {
            Surface::LoopsV2
        } else if starts("/api/v3") {
            Surface::LoopsV3
        } else if starts("/v1") {
            Surface::Stripe
        } else if starts("/checkout")
            || starts("/l")
            || starts("/portal")
            || starts("/dashboard")
            || starts("/assets")
            || starts("/docs")
        {
            Surface::Pages
        } else {
            Surface::Operations
        }
    }

    /// The surface of a request to `path` (of this surface) as a metrics label: short and
    /// stable. Pages are told apart: `dashboard` for the merchant's, `hosted` for customers'.
    pub fn metric_label(self, path: &str) -> &'static str {
        match self {
            Surface::LoopsV1 => "api_v1",
            Surface::LoopsV2 => "api_v2",
            Surface::LoopsV3 => "api_v3",
            Surface::Stripe => "v1",
            Surface::Pages if Surface::starts(path, "/dashboard") => "dashboard",
            Surface::Pages => "hosted",
            Surface::Operations => "operations",
        }
    }

    /// Whether `path` is `prefix` or under it.
    fn starts(path: &str, prefix: &str) -> bool {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// Whether errors take the Loops V1/V2 shape `{statusCode, error, message}`.
    pub fn has_loops_errors(self) -> bool {
        matches!(self, Surface::LoopsV1 | Surface::LoopsV2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surfaces_follow_the_path() {
        assert_eq!(
            Surface::of_path("/api/v1/checkout/sessions"),
            Surface::LoopsV1
        );
        assert_eq!(Surface::of_path("/api/v2"), Surface::LoopsV2);
        assert_eq!(Surface::of_path("/api/v3/account"), Surface::LoopsV3);
        assert_eq!(Surface::of_path("/v1/checkout/sessions"), Surface::Stripe);
        assert_eq!(Surface::of_path("/v10/x"), Surface::Operations);
        assert_eq!(Surface::of_path("/api/v1x"), Surface::Operations);
        assert_eq!(Surface::of_path("/checkout/cs_test_1"), Surface::Pages);
        assert_eq!(Surface::of_path("/portal/bps_1"), Surface::Pages);
        assert_eq!(Surface::of_path("/docs"), Surface::Pages);
        assert_eq!(Surface::of_path("/docsx"), Surface::Operations);
        assert_eq!(Surface::of_path("/healthz"), Surface::Operations);
    }

    #[test]
    fn metric_labels_tell_the_dashboard_from_customers_pages() {
        for (path, label) in [
            ("/v1/checkout/sessions", "v1"),
            ("/api/v1/checkout/sessions", "api_v1"),
            ("/api/v2/products", "api_v2"),
            ("/api/v3/account", "api_v3"),
            ("/checkout/cs_test_1", "hosted"),
            ("/portal/bps_1", "hosted"),
            ("/dashboard", "dashboard"),
            ("/dashboard/products", "dashboard"),
            ("/dashboardx", "operations"),
            ("/metrics", "operations"),
        ] {
            assert_eq!(Surface::of_path(path).metric_label(path), label, "{path}");
        }
    }
}
