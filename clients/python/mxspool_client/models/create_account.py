from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.role import Role
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateAccount")


@_attrs_define
class CreateAccount:
    """A new account.

    Example:
        {'email': 'ops@customer.example', 'max_domains': 25, 'may_create_domain_admins': True, 'password': 'a long
            secret phrase', 'role': 'customer'}

    Attributes:
        email (str):
        password (str): At least 12 characters.
        role (Role): What an account may do: `admin` operates the service, `customer` owns relay domains
            within its plan, `domain_admin` manages the domains it is given.
        max_domains (int | None | Unset): Customers only (default 10).
        may_create_domain_admins (bool | None | Unset): Customers only (default false).
    """

    email: str
    password: str
    role: Role
    max_domains: int | None | Unset = UNSET
    may_create_domain_admins: bool | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        password = self.password

        role = self.role.value

        max_domains: int | None | Unset
        if isinstance(self.max_domains, Unset):
            max_domains = UNSET
        else:
            max_domains = self.max_domains

        may_create_domain_admins: bool | None | Unset
        if isinstance(self.may_create_domain_admins, Unset):
            may_create_domain_admins = UNSET
        else:
            may_create_domain_admins = self.may_create_domain_admins

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "password": password,
                "role": role,
            }
        )
        if max_domains is not UNSET:
            field_dict["max_domains"] = max_domains
        if may_create_domain_admins is not UNSET:
            field_dict["may_create_domain_admins"] = may_create_domain_admins

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        password = d.pop("password")

        role = Role(d.pop("role"))

        def _parse_max_domains(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_domains = _parse_max_domains(d.pop("max_domains", UNSET))

        def _parse_may_create_domain_admins(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        may_create_domain_admins = _parse_may_create_domain_admins(d.pop("may_create_domain_admins", UNSET))

        create_account = cls(
            email=email,
            password=password,
            role=role,
            max_domains=max_domains,
            may_create_domain_admins=may_create_domain_admins,
        )

        return create_account
