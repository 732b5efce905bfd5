from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.role import Role
from ..types import UNSET, Unset

T = TypeVar("T", bound="AccountView")


@_attrs_define
class AccountView:
    """An account as the API shows it (never the password hash).

    Example:
        {'created_at': '2026-11-28T10:00:00Z', 'email': 'ops@customer.example', 'id': 7, 'max_domains': 25,
            'may_create_domain_admins': True, 'parent_id': None, 'role': 'customer', 'updated_at': '2026-11-28T10:00:00Z'}

    Attributes:
        created_at (datetime.datetime):
        email (str):
        id (int): Primary key of `accounts`. Example: 42.
        role (Role): What an account may do: `admin` operates the service, `customer` owns relay domains
            within its plan, `domain_admin` manages the domains it is given.
        updated_at (datetime.datetime):
        max_domains (int | None | Unset): Customers only: how many relay domains the account may own.
        may_create_domain_admins (bool | None | Unset): Customers only: whether the account may create domain
            administrators.
        parent_id (int | None | Unset):
    """

    created_at: datetime.datetime
    email: str
    id: int
    role: Role
    updated_at: datetime.datetime
    max_domains: int | None | Unset = UNSET
    may_create_domain_admins: bool | None | Unset = UNSET
    parent_id: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        email = self.email

        id = self.id

        role = self.role.value

        updated_at = self.updated_at.isoformat()

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

        parent_id: int | None | Unset
        if isinstance(self.parent_id, Unset):
            parent_id = UNSET
        else:
            parent_id = self.parent_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "email": email,
                "id": id,
                "role": role,
                "updated_at": updated_at,
            }
        )
        if max_domains is not UNSET:
            field_dict["max_domains"] = max_domains
        if may_create_domain_admins is not UNSET:
            field_dict["may_create_domain_admins"] = may_create_domain_admins
        if parent_id is not UNSET:
            field_dict["parent_id"] = parent_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        email = d.pop("email")

        id = d.pop("id")

        role = Role(d.pop("role"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

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

        def _parse_parent_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        parent_id = _parse_parent_id(d.pop("parent_id", UNSET))

        account_view = cls(
            created_at=created_at,
            email=email,
            id=id,
            role=role,
            updated_at=updated_at,
            max_domains=max_domains,
            may_create_domain_admins=may_create_domain_admins,
            parent_id=parent_id,
        )

        account_view.additional_properties = d
        return account_view

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
