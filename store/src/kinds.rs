//! The closed sets of words stored in TEXT columns (each guarded by a CHECK constraint in the
//! migrations) as Rust enums, serialised the same way in JSON and in the database. Variant
//! names are the snake_case of the stored word (serde's `rename_all` and the macro's table
//! must agree; `kinds_serialise_as_their_stored_word` checks it).

use diesel::deserialize::{FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};
use std::io::Write;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            Serialize, Deserialize, AsExpression, FromSqlRow, utoipa::ToSchema,
        )]
        #[diesel(sql_type = Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored in the database and used in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown value {other:?}; expected one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                text.parse().map_err(Into::into)
            }
        }
    };
}

text_enum!(
    /// What an account may do: `admin` operates the service, `customer` owns relay domains
    /// within its plan, `domain_admin` manages the domains it is given.
    Role {
        Admin => "admin",
        Customer => "customer",
        DomainAdmin => "domain_admin",
    }
);

text_enum!(
    /// The kind of domain; only relaying (backup MX) exists today.
    DomainType { Relay => "relay" }
);

text_enum!(
    /// How mail reaches the target host.
    Service { Smtp => "smtp" }
);

text_enum!(
    /// TLS towards the target host: `none` never, `opportunistic` when offered, `required`
    /// without certificate checks, `verify` with certificate and name checks.
    TlsPolicy {
        None => "none",
        Opportunistic => "opportunistic",
        Required => "required",
        Verify => "verify",
    }
);

text_enum!(
    /// What the relay answers at RCPT for a `verify` domain when the target cannot be asked
    /// and no cached callout answer exists: `accept` the recipient, or `tempfail` it with
    /// `450 4.4.3` so the sender retries later.
    VerifyFallback {
        Accept => "accept",
        Tempfail => "tempfail",
    }
);

text_enum!(
    /// Overall result of a live DNS check, the worst of its named checks.
    DnsStatus {
        Ok => "ok",
        Warning => "warning",
        Error => "error",
    }
);

text_enum!(
    /// Which recipients the relay accepts at RCPT time: `any` local part, only `listed`
    /// ones, or those the target host confirms (`verify`, a cached callout).
    RecipientPolicy {
        Any => "any",
        Listed => "listed",
        Verify => "verify",
    }
);

text_enum!(
    /// Where a delivery goes: `relay` to its domain's target host, `mx` to the MX hosts of the
    /// recipient's own domain (DSNs to envelope senders).
    Route {
        Relay => "relay",
        Mx => "mx",
    }
);

text_enum!(
    /// Lifecycle of one recipient of one queued message.
    DeliveryState {
        Queued => "queued",
        Deferred => "deferred",
        Delivering => "delivering",
        Delivered => "delivered",
        Bounced => "bounced",
        Expired => "expired",
        Held => "held",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: Serialize + Copy>(all: &[T], word: impl Fn(T) -> &'static str) {
        for v in all {
            let json = serde_json::to_value(v).unwrap_or_default();
            assert_eq!(json, serde_json::Value::String(word(*v).to_owned()));
        }
    }

    #[test]
    fn kinds_serialise_as_their_stored_word() {
        check(Role::ALL, Role::as_str);
        check(DomainType::ALL, DomainType::as_str);
        check(Service::ALL, Service::as_str);
        check(TlsPolicy::ALL, TlsPolicy::as_str);
        check(RecipientPolicy::ALL, RecipientPolicy::as_str);
        check(VerifyFallback::ALL, VerifyFallback::as_str);
        check(DnsStatus::ALL, DnsStatus::as_str);
        check(DeliveryState::ALL, DeliveryState::as_str);
        check(Route::ALL, Route::as_str);
    }
}
